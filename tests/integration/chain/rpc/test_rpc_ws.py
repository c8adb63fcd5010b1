"""WsClient against a scripted local WebSocket node: drops, garbage, silence, refusals.

Each connection the fake node accepts takes the next mode from its script (then ``normal``).
The real-Anvil WebSocket tests live in test_rpc_anvil.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from workbench.errors import ConfigError, RpcError, RpcTransportError
from workbench.rpc import RetryPolicy, WsClient

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)


class FakeNode:
    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.connections = 0

    async def handler(self, conn: ServerConnection) -> None:
        self.connections += 1
        mode = self.script.pop(0) if self.script else "normal"
        async for raw in conn:
            req = orjson.loads(raw)
            rid, method = req["id"], req["method"]
            if mode == "garbage":
                await conn.send("not json at all")
            elif mode == "silent":
                continue
            elif method == "eth_subscribe" and mode == "refuse_subscribe":
                err = {"code": -32000, "message": "subscriptions disabled"}
                await conn.send(orjson.dumps({"jsonrpc": "2.0", "id": rid, "error": err}).decode())
            elif method == "eth_subscribe":
                sid = f"0x{self.connections:x}"
                await conn.send(orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": sid}).decode())
                note = {"subscription": sid, "result": {"number": hex(self.connections)}}
                await conn.send(
                    orjson.dumps(
                        {"jsonrpc": "2.0", "method": "eth_subscription", "params": note}
                    ).decode()
                )
                if mode == "drop_after_notify":
                    conn.transport.abort()
                    return
            else:
                result = "0x1" if method == "eth_chainId" else True
                await conn.send(
                    orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).decode()
                )


def run(script: list[str], test: Callable[[str, FakeNode, Any], Awaitable[None]]) -> FakeNode:
    """Start the fake node on a free port, run ``test(url, node, server)``, always stop it."""
    node = FakeNode(script)

    async def main() -> None:
        async with serve(node.handler, "127.0.0.1", 0) as server:
            await asyncio.wait_for(
                test(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}", node, server), 10
            )

    asyncio.run(main())
    return node


def client(url: str, **kw: Any) -> WsClient:
    kw.setdefault("retry", FAST)
    return WsClient(url, timeout=kw.pop("timeout", 2.0), reconnect=FAST, **kw)


def test_rejects_non_ws_urls() -> None:
    with pytest.raises(ConfigError, match="ws:// or wss://"):
        WsClient("http://127.0.0.1:8545")


def test_gives_up_after_reconnect_attempts_and_says_so() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: refused
        sleeps: list[float] = []

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        async def main() -> None:
            ws = client(url, sleep=fake_sleep, rng=lambda: 0.5)
            with pytest.raises(RpcTransportError) as info:
                await ws.connect()
            with pytest.raises(RpcTransportError):
                await ws.call("eth_chainId")  # stays failed
            await ws.close()
            err = info.value
            assert len(err.attempts) == 3 and all("could not connect" in a for a in err.attempts)
            assert f"WebSocket to {url} failed 3 times in a row; giving up" in str(err)

        asyncio.run(main())
        assert sleeps == [0.0005, 0.001]


def test_malformed_message_reconnects_and_retries_the_call() -> None:
    async def test(url: str, node: FakeNode, _: Any) -> None:
        async with client(url) as ws:
            assert await ws.call("eth_chainId") == "0x1"

    assert run(["garbage"], test).connections == 2


def test_silent_node_times_out_with_every_attempt_listed() -> None:
    async def test(url: str, node: FakeNode, _: Any) -> None:
        async with client(url, timeout=0.05) as ws:
            with pytest.raises(RpcTransportError) as info:
                await ws.call("eth_blockNumber")
        assert str(info.value).startswith(
            "eth_blockNumber over WebSocket failed after 3 attempt(s)"
        )
        assert all("no reply within 0.05s (timeout)" in a for a in info.value.attempts)

    run(["silent"], test)


def test_refused_subscription_raises_rpc_error() -> None:
    async def test(url: str, node: FakeNode, _: Any) -> None:
        async with client(url) as ws:
            with pytest.raises(RpcError) as info:
                await ws.subscribe("newHeads")
        assert (info.value.code, info.value.method) == (-32000, "eth_subscribe")

    run(["refuse_subscribe"], test)


def test_refused_resubscribe_ends_iteration_with_the_rpc_error() -> None:
    async def test(url: str, node: FakeNode, _: Any) -> None:
        async with client(url) as ws:
            heads = await ws.subscribe("newHeads")
            assert await anext(heads) == {"number": "0x1"}
            with pytest.raises(RpcError, match="subscriptions disabled"):
                await anext(heads)

    run(["drop_after_notify", "refuse_subscribe"], test)


def test_resubscribes_after_a_drop() -> None:
    async def test(url: str, node: FakeNode, _: Any) -> None:
        async with client(url) as ws:
            heads = await ws.subscribe("newHeads")
            assert [await anext(heads) for _ in range(2)] == [{"number": "0x1"}, {"number": "0x2"}]
            assert heads.id == "0x2"

    run(["drop_after_notify"], test)


def test_node_gone_for_good_ends_iteration_with_transport_error() -> None:
    async def test(url: str, node: FakeNode, server: Any) -> None:
        async with client(url) as ws:
            heads = await ws.subscribe("newHeads")
            await anext(heads)
            server.close()  # closes the connection and stops listening
            with pytest.raises(RpcTransportError, match="giving up"):
                await anext(heads)

    run([], test)


def test_close_ends_subscriptions_and_later_calls_fail_clearly() -> None:
    async def test(url: str, node: FakeNode, _: Any) -> None:
        ws = await client(url).connect()
        heads = await ws.subscribe("newHeads")
        await ws.close()
        assert [h async for h in heads] == [{"number": "0x1"}]
        with pytest.raises(RpcTransportError, match="is closed; create a new one"):
            await ws.call("eth_chainId")

    run([], test)
