"""Lean ABI encoding of calls, constructors and results (eth_abi; no web3 objects on hot paths)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from workbench.chain.contracts import Artifact, artifact
from workbench.errors import ContractError


def _type_of(param: dict[str, Any]) -> str:
    """The canonical ABI type of a parameter, expanding tuples (structs)."""
    t = str(param["type"])
    if t.startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param["components"])
        return f"({inner}){t[len('tuple') :]}"
    return t


@functools.cache
def _function(contract: str, fn: str) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    item = artifact(contract).function_abi(fn)
    inputs = tuple(_type_of(p) for p in item["inputs"])
    outputs = tuple(_type_of(p) for p in item.get("outputs", []))
    selector = function_signature_to_4byte_selector(f"{fn}({','.join(inputs)})")
    return selector, inputs, outputs


def selector(contract: str, fn: str) -> bytes:
    return _function(contract, fn)[0]


def encode_call(contract: str, fn: str, args: Sequence[Any] = ()) -> bytes:
    """Calldata for ``contract.fn(*args)``; structs are given as tuples."""
    sel, inputs, _ = _function(contract, fn)
    if len(args) != len(inputs):
        raise ContractError(f"{contract}.{fn} takes {len(inputs)} arguments, got {len(args)}")
    return sel + encode(list(inputs), list(args))


def decode_result(contract: str, fn: str, data: bytes | str) -> tuple[Any, ...]:
    """The decoded return values of ``contract.fn``."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    return tuple(decode(list(_function(contract, fn)[2]), data))


def encode_deploy(art: Artifact, args: Sequence[Any] = ()) -> bytes:
    """Creation code followed by the ABI-encoded constructor arguments."""
    ctor = next((i for i in art.abi if i.get("type") == "constructor"), None)
    types = [_type_of(p) for p in ctor["inputs"]] if ctor else []
    if len(args) != len(types):
        raise ContractError(f"{art.name} constructor takes {len(types)} arguments, got {len(args)}")
    return art.bytecode + (encode(types, list(args)) if types else b"")


@functools.cache
def _errors(contract: str) -> dict[str, tuple[bytes, tuple[str, ...]]]:
    """The contract's custom errors: name -> (selector, argument types)."""
    out = {}
    for item in artifact(contract).abi:
        if item.get("type") == "error":
            types = tuple(_type_of(p) for p in item["inputs"])
            out[item["name"]] = (
                function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})"),
                types,
            )
    return out


def custom_error_selector(contract: str, error: str) -> bytes:
    """The 4-byte selector of a custom Solidity error, to recognise revert data."""
    if error not in _errors(contract):
        raise ContractError(f"{contract} has no error {error!r}")
    return _errors(contract)[error][0]


def decode_custom_error(contract: str, data: bytes) -> str | None:
    """``Name(arg, ...)`` for revert data that is one of ``contract``'s custom errors."""
    for name, (sel, types) in _errors(contract).items():
        if data[:4] == sel:
            try:
                args = decode(list(types), data[4:])
            except Exception:  # malformed arguments: still name the error
                return f"{name}(?)"
            return f"{name}({', '.join(str(a) for a in args)})"
    return None
