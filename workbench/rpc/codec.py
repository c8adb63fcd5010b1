"""JSON-RPC 2.0 request encoding and response decoding (orjson), shared by every transport.

Decoding never raises ``RpcError``: an error reply is the node's answer and comes back as an
``RpcError`` instance for the caller to raise or keep. A reply that is not valid JSON-RPC for
the request sent raises ``MalformedResponse``, which transports treat as a fault of the endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from workbench.errors import RpcError

Call = tuple[str, Sequence[Any]]
"""A JSON-RPC call: method name and positional params."""


class MalformedResponse(ValueError):
    """The reply is not valid JSON-RPC 2.0 for the request sent (bad JSON, wrong ids...)."""


def _params(params: Sequence[Any]) -> Any:
    # orjson serialises lists and tuples natively; copy only other sequences.
    return params if isinstance(params, list | tuple) else list(params)


def encode(method: str, params: Sequence[Any], request_id: int) -> bytes:
    return orjson.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": method, "params": _params(params)}
    )


def encode_batch(calls: Sequence[Call], first_id: int) -> bytes:
    """One array request; call ``i`` gets id ``first_id + i``."""
    return orjson.dumps(
        [
            {"jsonrpc": "2.0", "id": first_id + i, "method": m, "params": _params(p)}
            for i, (m, p) in enumerate(calls)
        ]
    )


def loads(body: bytes | str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedResponse(f"invalid JSON ({exc}); body starts {body[:80]!r}") from None


def result_or_error(obj: Any, method: str) -> Any:
    """The ``result`` member of a response object, or an ``RpcError`` for its ``error`` member."""
    if not isinstance(obj, dict):
        raise MalformedResponse(f"expected a JSON object, got {type(obj).__name__}")
    err = obj.get("error")
    if err is not None:
        if not isinstance(err, dict) or not isinstance(err.get("code"), int):
            raise MalformedResponse(f"error member is not a JSON-RPC error object: {err!r}")
        return RpcError(err["code"], str(err.get("message", "")), err.get("data"), method)
    if "result" not in obj:
        raise MalformedResponse(f"response has neither result nor error: {obj!r:.120}")
    return obj["result"]


def decode(body: bytes, request_id: int, method: str) -> Any:
    """The result of a single call; an ``RpcError`` instance (not raised) for an error reply.

    An error with id null (the node could not parse the request) is accepted as the answer.
    """
    obj = loads(body)
    if isinstance(obj, dict) and obj.get("id") != request_id:
        if obj.get("id") is None and obj.get("error") is not None:
            return result_or_error(obj, method)
        raise MalformedResponse(
            f"response id {obj.get('id')!r} does not match request id {request_id}"
        )
    return result_or_error(obj, method)


def decode_batch(body: bytes, calls: Sequence[Call], first_id: int) -> list[Any] | RpcError:
    """Results in the order of ``calls`` (replies may come in any order); errors as instances.

    A single error object instead of an array (the node rejected the whole batch) is returned
    as an ``RpcError`` instance for the caller to raise. Replies with id null (the node could not
    identify the request) are matched to the unanswered calls in order when their counts agree.
    """
    objs = loads(body)
    if isinstance(objs, dict) and objs.get("error") is not None:
        return result_or_error(objs, f"batch of {len(calls)}")  # an RpcError for the whole batch
    if not isinstance(objs, list):
        raise MalformedResponse(f"batch reply is a {type(objs).__name__}, not an array")
    n = len(calls)
    if len(objs) == n and all(
        isinstance(o, dict) and o.get("id") == first_id + i for i, o in enumerate(objs)
    ):  # the usual case: every reply in request order
        return [result_or_error(o, calls[i][0]) for i, o in enumerate(objs)]
    by_id: dict[Any, Any] = {}
    null_id: list[Any] = []
    for obj in objs:
        if not isinstance(obj, dict):
            raise MalformedResponse(f"batch reply holds a {type(obj).__name__}, not an object")
        rid = obj.get("id")
        if rid is None:
            null_id.append(obj)
        else:
            by_id.setdefault(rid, obj)
    missing = [i for i in range(n) if first_id + i not in by_id]
    if missing and len(missing) == len(null_id):
        by_id.update({first_id + i: obj for i, obj in zip(missing, null_id, strict=True)})
    elif missing:
        first = missing[0]
        raise MalformedResponse(
            f"batch reply lacks {len(missing)} of {n} ids, first {first_id + first} ({calls[first][0]}); "
            f"got ids {sorted(map(repr, by_id))[:5]}"
        )
    return [result_or_error(by_id[first_id + i], calls[i][0]) for i in range(n)]


def unwrap_batch(answers: Sequence[Any]) -> list[Any]:
    """A batch's results (as ``RpcClient.batch`` returns them), its first error raised."""
    for answer in answers:
        if isinstance(answer, RpcError):
            raise answer
    return list(answers)


def notification(obj: Any) -> tuple[str, Any] | None:
    """``(subscription id, result)`` if ``obj`` is an ``eth_subscription`` notification."""
    if obj.get("method") != "eth_subscription":
        return None
    params = obj.get("params")
    if not isinstance(params, dict) or "subscription" not in params:
        raise MalformedResponse(f"eth_subscription without a subscription id: {obj!r:.120}")
    return params["subscription"], params.get("result")
