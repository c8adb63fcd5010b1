"""Just enough of a signed transaction's encoding (an EIP-2718 envelope around RLP) to read its
type and calldata and to compute its hash, which proves the bytes are the transaction the
row names. Blob transactions in their network form (with the sidecar) hash without it."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak

FIELDS = {0: 9, 1: 11, 2: 12, 3: 14, 4: 13}
"""How many RLP items each known type's signed payload holds."""
DATA_AT = {0: 5, 1: 6, 2: 7, 3: 7, 4: 7}
"""Where the calldata sits among them."""


class RawTxError(ValueError):
    """The bytes are not a signed transaction."""


@dataclass(frozen=True, slots=True)
class RawTx:
    type: int
    input: str | None  # 0x-hex calldata; None for a type this module does not know
    hash: str


def parse_raw(raw: bytes) -> RawTx:
    """The type, calldata and hash of a signed transaction (legacy or typed)."""
    if not raw:
        raise RawTxError("is empty")
    kind, offset = (0, 0) if raw[0] >= 0xC0 else (raw[0], 1)
    if kind > 0x7F:
        raise RawTxError("is neither a legacy (RLP list) nor a typed (EIP-2718) transaction")
    start, end, is_list = _header(raw, offset)
    if not is_list or end != len(raw):
        raise RawTxError("is not exactly one RLP list after the type byte")
    items = _items(raw, start, end)
    signed = raw
    if kind == 3 and items and items[0][3]:  # network form: [tx, blobs, commitments, proofs]
        pos, start, end, _ = items[0]
        signed = b"\x03" + raw[pos:end]
        items = _items(raw, start, end)
    data = None
    if kind in FIELDS:
        if len(items) != FIELDS[kind]:
            raise RawTxError(
                f"has {len(items)} fields; a type-{kind} transaction has {FIELDS[kind]}"
            )
        _, start, end, is_list = items[DATA_AT[kind]]
        if is_list:
            raise RawTxError("has a list where the calldata should be")
        data = "0x" + raw[start:end].hex()
    return RawTx(type=kind, input=data, hash="0x" + keccak(signed).hex())


def _header(buf: bytes, pos: int) -> tuple[int, int, bool]:
    """Where the RLP item at ``pos`` has its payload (start, end) and whether it is a list."""
    if pos >= len(buf):
        raise RawTxError("is truncated")
    prefix = buf[pos]
    if prefix < 0x80:
        return pos, pos + 1, False
    is_list = prefix >= 0xC0
    short = prefix - (0xC0 if is_list else 0x80)
    if short <= 55:
        start, length = pos + 1, short
    else:
        start = pos + 1 + short - 55
        length = int.from_bytes(buf[pos + 1 : start], "big")
    if start + length > len(buf):
        raise RawTxError("is truncated")
    return start, start + length, is_list


def _items(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, bool]]:
    """The items of the list whose payload is ``buf[start:end]``: (position, start, end, is_list)."""
    items = []
    pos = start
    while pos < end:
        s, e, is_list = _header(buf, pos)
        items.append((pos, s, e, is_list))
        pos = e
    if pos != end:
        raise RawTxError("has an RLP item running past its list")
    return items
