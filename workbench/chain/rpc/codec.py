"""JSON-RPC 2.0 request encoding and response decoding (orjson), shared by every transport."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import orjson

from workbench.errors import RpcError

Call = tuple[str, Sequence[Any]]
"""A JSON-RPC call: method name and positional params."""


class MalformedResponse(ValueError):
    """The reply is not valid JSON-RPC 2.0 for the request sent (bad JSON, wrong ids...)."""


class IdSource:
    """Monotonic request ids, unique per client."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> int:
        return next(self._counter)


def encode(call: Call, request_id: int) -> bytes:
    method, params = call
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)})


def encode_batch(calls: Sequence[Call], first_id: int) -> bytes:
    return orjson.dumps(
        [
            {"jsonrpc": "2.0", "id": first_id + i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
    )


def _result_or_error(obj: Any, method: str) -> Any:
    if not isinstance(obj, dict):
        raise MalformedResponse(f"expected a JSON object, got {type(obj).__name__}")
    if "error" in obj and obj["error"] is not None:
        err = obj["error"]
        if not isinstance(err, dict) or "code" not in err:
            raise MalformedResponse(f"error member is not a JSON-RPC error object: {err!r}")
        return RpcError(int(err["code"]), str(err.get("message", "")), err.get("data"), method)
    if "result" not in obj:
        raise MalformedResponse("response has neither result nor error")
    return obj["result"]


def decode(body: bytes, request_id: int, method: str) -> Any:
    """The result of a single call; an ``RpcError`` instance (not raised) for an error reply."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedResponse(f"invalid JSON ({exc}); body starts {body[:80]!r}") from None
    if isinstance(obj, dict) and obj.get("id") != request_id:
        if obj.get("id") is None and "error" in obj:
            return _result_or_error(obj, method)  # e.g. parse error reported with id null
        raise MalformedResponse(f"response id {obj.get('id')!r} does not match request id {request_id}")
    return _result_or_error(obj, method)


def decode_batch(body: bytes, calls: Sequence[Call], first_id: int) -> list[Any]:
    """Results in the order of ``calls`` (replies may come in any order); errors as instances."""
    try:
        objs = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedResponse(f"invalid JSON ({exc}); body starts {body[:80]!r}") from None
    if isinstance(objs, dict) and "error" in objs:
        err = _result_or_error(objs, "batch")
        raise err if isinstance(err, RpcError) else MalformedResponse(str(err))
    if not isinstance(objs, list):
        raise MalformedResponse(f"batch reply is a {type(objs).__name__}, not a list")
    by_id: dict[Any, Any] = {}
    for obj in objs:
        if isinstance(obj, dict):
            by_id[obj.get("id")] = obj
    out: list[Any] = []
    for i, (method, _) in enumerate(calls):
        obj = by_id.get(first_id + i)
        if obj is None:
            raise MalformedResponse(f"batch reply lacks id {first_id + i} ({method})")
        out.append(_result_or_error(obj, method))
    return out
