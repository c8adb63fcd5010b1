"""A signed transaction's raw bytes rebuilt from its JSON-RPC fields, checked against its hash.

For nodes without ``eth_getRawTransactionByHash``: legacy, EIP-2930, EIP-1559, EIP-4844
(canonical form, without the blob sidecar) and EIP-7702 transactions are RLP-encoded from
their signed fields. A result is only trusted when keccak(raw) equals the transaction hash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eth_utils import keccak

from workbench.rlp import rlp_encode

Tx = Mapping[str, Any]


def _int(value: Any) -> int:
    return value if isinstance(value, int) else int(value, 16)


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    return bytes.fromhex(value[2:] if value.startswith(("0x", "0X")) else value)


def _access_list(tx: Tx) -> list[list[Any]]:
    return [
        [_bytes(item["address"]), [_bytes(key) for key in item.get("storageKeys", [])]]
        for item in tx.get("accessList") or []
    ]


def _authorizations(tx: Tx) -> list[list[Any]]:
    return [
        [
            _int(a["chainId"]),
            _bytes(a["address"]),
            _int(a["nonce"]),
            _y_parity(a),
            _int(a["r"]),
            _int(a["s"]),
        ]
        for a in tx.get("authorizationList") or []
    ]


def _y_parity(tx: Tx) -> int:
    if tx.get("yParity") is not None:
        return _int(tx["yParity"])
    v = _int(tx["v"])
    return v - 27 if v >= 27 else v  # some nodes report 27/28 for typed transactions


def _signature(tx: Tx) -> list[int]:
    return [_y_parity(tx), _int(tx["r"]), _int(tx["s"])]


def _head(tx: Tx, *fees: str) -> list[Any]:
    """chain id, nonce, the fee fields, gas, to, value, input, access list."""
    return [
        _int(tx["chainId"]),
        _int(tx["nonce"]),
        *(_int(tx[f]) for f in fees),
        _int(tx["gas"]),
        _bytes(tx.get("to")),
        _int(tx["value"]),
        _bytes(tx["input"]),
        _access_list(tx),
    ]


def _legacy(tx: Tx) -> list[Any]:
    return [
        _int(tx["nonce"]),
        _int(tx["gasPrice"]),
        _int(tx["gas"]),
        _bytes(tx.get("to")),
        _int(tx["value"]),
        _bytes(tx["input"]),
        _int(tx["v"]),
        _int(tx["r"]),
        _int(tx["s"]),
    ]


_FIELDS: dict[int, Callable[[Tx], list[Any]]] = {
    0: _legacy,
    1: lambda tx: [*_head(tx, "gasPrice"), *_signature(tx)],
    2: lambda tx: [*_head(tx, "maxPriorityFeePerGas", "maxFeePerGas"), *_signature(tx)],
    3: lambda tx: [
        *_head(tx, "maxPriorityFeePerGas", "maxFeePerGas"),
        _int(tx["maxFeePerBlobGas"]),
        [_bytes(h) for h in tx["blobVersionedHashes"]],
        *_signature(tx),
    ],
    4: lambda tx: [
        *_head(tx, "maxPriorityFeePerGas", "maxFeePerGas"),
        _authorizations(tx),
        *_signature(tx),
    ],
}


def encode_signed(tx: Tx) -> bytes | None:
    """The signed transaction's bytes, or None for a type this module does not know (e.g. an
    OP-stack deposit) or a transaction missing a field."""
    kind = _int(tx.get("type") or 0)
    fields = _FIELDS.get(kind)
    if fields is None:
        return None
    try:
        payload = rlp_encode(fields(tx))
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return None
    return payload if kind == 0 else bytes([kind]) + payload


def hashes_to(raw: bytes, tx_hash: str) -> bool:
    return "0x" + keccak(raw).hex() == tx_hash.lower()


def verified_raw(tx: Tx, from_node: Any = None) -> str | None:
    """The raw transaction as 0x-hex: the node's bytes if given and they hash to the transaction's
    hash, else the re-encoded bytes if they do; None when neither can be trusted."""
    tx_hash = str(tx["hash"])
    if isinstance(from_node, str) and from_node.startswith("0x"):
        try:
            raw = _bytes(from_node)
        except ValueError:
            raw = b""
        if raw and hashes_to(raw, tx_hash):
            return "0x" + raw.hex()
    encoded = encode_signed(tx)
    if encoded is not None and hashes_to(encoded, tx_hash):
        return "0x" + encoded.hex()
    return None
