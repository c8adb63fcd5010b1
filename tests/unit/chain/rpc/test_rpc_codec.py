"""JSON-RPC codec: ids, batches out of order, error objects, malformed replies."""

from __future__ import annotations

import inspect

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import workbench.rpc as rpc
from workbench.errors import RpcError
from workbench.rpc.codec import (
    MalformedResponse,
    decode,
    decode_batch,
    encode,
    encode_batch,
    notification,
)


def test_public_api_is_exactly_the_exports() -> None:
    public = {
        n for n, v in vars(rpc).items() if not n.startswith("_") and not inspect.ismodule(v)
    } - {"annotations"}
    assert public == set(rpc.__all__)


def test_encode_is_json_rpc_2() -> None:
    assert orjson.loads(encode("eth_getBalance", ("0xab", "latest"), 7)) == {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "eth_getBalance",
        "params": ["0xab", "latest"],
    }
    batch = orjson.loads(encode_batch([("a", []), ("b", (1,)), ("c", range(2))], 10))
    assert [(o["id"], o["method"], o["params"]) for o in batch] == [
        (10, "a", []),
        (11, "b", [1]),
        (12, "c", [0, 1]),
    ]


def test_decode_result_error_and_null_id_parse_error() -> None:
    assert decode(b'{"jsonrpc":"2.0","id":3,"result":"0x1"}', 3, "m") == "0x1"
    assert decode(b'{"jsonrpc":"2.0","id":3,"result":null}', 3, "m") is None
    err = decode(
        b'{"jsonrpc":"2.0","id":3,"error":{"code":3,"message":"reverted","data":"0xdead"}}',
        3,
        "eth_call",
    )
    assert isinstance(err, RpcError)
    assert (err.code, err.message, err.data, err.method) == (3, "reverted", "0xdead", "eth_call")
    parse = decode(
        b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}', 3, "m"
    )
    assert isinstance(parse, RpcError) and parse.code == -32700


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>502 Bad Gateway</html>", "invalid JSON"),
        (b'{"jsonrpc":"2.0","id":4,"result":"0x1"}', "does not match request id 3"),
        (b'{"jsonrpc":"2.0","id":3}', "neither result nor error"),
        (b'{"jsonrpc":"2.0","id":3,"error":"boom"}', "not a JSON-RPC error object"),
        (b'{"jsonrpc":"2.0","id":null,"result":"0x1"}', "does not match"),
        (b"[1, 2]", "expected a JSON object"),
    ],
)
def test_decode_rejects_malformed(body: bytes, match: str) -> None:
    with pytest.raises(MalformedResponse, match=match):
        decode(body, 3, "m")


def _reply(rid: object, i: int) -> dict[str, object]:
    if i % 3 == 2:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": f"no {i}"}}
    return {"jsonrpc": "2.0", "id": rid, "result": hex(i)}


@given(st.permutations(range(12)), st.integers(1, 2**40))
def test_decode_batch_restores_request_order(order: list[int], first: int) -> None:
    calls = [(f"m{i}", ()) for i in range(12)]
    body = orjson.dumps([_reply(first + i, i) for i in order])
    out = decode_batch(body, calls, first)
    assert isinstance(out, list)
    for i, value in enumerate(out):
        if i % 3 == 2:
            assert (
                isinstance(value, RpcError)
                and value.message == f"no {i}"
                and value.method == f"m{i}"
            )
        else:
            assert value == hex(i)


def test_decode_batch_whole_batch_error_and_null_ids() -> None:
    calls = [("a", ()), ("b", ())]
    whole = decode_batch(
        b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}', calls, 1
    )
    assert isinstance(whole, RpcError) and whole.code == -32600
    # one element the node could not identify: its null-id error takes the unanswered slot
    body = orjson.dumps([_reply(None, 2), _reply(1, 0)])
    out = decode_batch(body, calls, 1)
    assert isinstance(out, list) and out[0] == "0x0" and isinstance(out[1], RpcError)


@pytest.mark.parametrize(
    ("replies", "match"),
    [
        ([_reply(1, 0)], "lacks 1 of 2 ids, first 2"),
        ([_reply(7, 0), _reply(8, 1)], "lacks 2 of 2"),
        ([_reply(1, 0), _reply(1, 1)], "lacks 1 of 2"),
        ([_reply(1, 0), "x"], "holds a str"),
    ],
)
def test_decode_batch_rejects_wrong_ids(replies: list[object], match: str) -> None:
    with pytest.raises(MalformedResponse, match=match):
        decode_batch(orjson.dumps(replies), [("a", ()), ("b", ())], 1)


def test_decode_batch_rejects_non_array() -> None:
    with pytest.raises(MalformedResponse, match="not an array"):
        decode_batch(b'{"jsonrpc":"2.0","id":1,"result":"0x1"}', [("a", ())], 1)


def test_notification() -> None:
    note = {
        "jsonrpc": "2.0",
        "method": "eth_subscription",
        "params": {"subscription": "0x9", "result": {"number": "0x1"}},
    }
    assert notification(note) == ("0x9", {"number": "0x1"})
    assert notification({"jsonrpc": "2.0", "id": 1, "result": "0x1"}) is None
    with pytest.raises(MalformedResponse, match="without a subscription id"):
        notification({"method": "eth_subscription", "params": {}})
