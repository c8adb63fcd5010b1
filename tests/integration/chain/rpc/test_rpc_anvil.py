"""RpcClient and WsClient against a real Anvil started by the fixture (127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.conftest import missing
from workbench.errors import RpcError
from workbench.rpc import RetryPolicy, RpcClient, WsClient

ANVIL = Path(__file__).resolve().parents[4] / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
REVERT_DEADBEEF = "0x63deadbeef6000526004601cfd"  # init code: mstore(0, 0xdeadbeef); revert(28, 4)
DEV_BALANCE = 10_000 * 10**18


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def anvil_port() -> Iterator[int]:
    if not ANVIL.exists():
        missing("anvil", f"anvil not found at {ANVIL}; run `make setup`")
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [str(ANVIL), "--port", str(port), "--host", "127.0.0.1", "--silent"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"anvil did not start on port {port}: {log.read()[-2000:]!r}")
                time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def http(anvil_port: int) -> Iterator[RpcClient]:
    with RpcClient(f"http://127.0.0.1:{anvil_port}", timeout=5.0) as client:
        yield client


def test_chain_id_and_block_number(http: RpcClient) -> None:
    assert http.call("eth_chainId") == hex(31337)
    before = int(http.call("eth_blockNumber"), 16)
    http.call("evm_mine")
    assert int(http.call("eth_blockNumber"), 16) == before + 1


def test_batch_of_100(http: RpcClient) -> None:
    accounts = http.call("eth_accounts")
    addresses = accounts + [f"0x{i:040x}" for i in range(1, 101 - len(accounts))]
    calls = [("eth_getBalance", [a, "latest"]) for a in addresses[:99]] + [("eth_chainId", [])]
    out = http.batch(calls)
    assert len(out) == 100 and out[-1] == hex(31337)
    balances = [int(x, 16) for x in out[:99]]
    assert balances == [DEV_BALANCE] * len(accounts) + [0] * (99 - len(accounts))


def test_rpc_errors(http: RpcClient) -> None:
    with pytest.raises(RpcError) as missing:
        http.call("eth_noSuchMethod")
    assert (missing.value.code, missing.value.method) == (-32601, "eth_noSuchMethod")
    with pytest.raises(RpcError) as reverted:
        http.call("eth_call", [{"data": REVERT_DEADBEEF}, "latest"])
    assert reverted.value.code == 3 and reverted.value.data == "0xdeadbeef"
    out = http.batch([("eth_noSuchMethod", []), ("eth_chainId", [])])
    assert isinstance(out[0], RpcError) and out[0].code == -32601 and out[1] == hex(31337)


def test_failover_from_a_dead_endpoint(anvil_port: int) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with RpcClient([dead, f"http://127.0.0.1:{anvil_port}"], timeout=5.0) as client:
        assert client.call("eth_chainId") == hex(31337)


async def _take(sub: AsyncIterator[Any], n: int) -> list[Any]:
    async def take() -> list[Any]:
        return [await anext(sub) for _ in range(n)]

    return await asyncio.wait_for(take(), timeout=10)


def test_ws_calls_and_new_heads(anvil_port: int, http: RpcClient) -> None:
    async def main() -> None:
        async with WsClient(f"ws://127.0.0.1:{anvil_port}", timeout=5.0) as ws:
            assert await ws.call("eth_chainId") == hex(31337)
            with pytest.raises(RpcError) as info:
                await ws.call("eth_noSuchMethod")
            # anvil's WebSocket path, unlike its HTTP path, says "invalid params" here
            assert info.value.code == -32602
            async with await ws.subscribe("newHeads") as heads:
                start = int(http.call("eth_blockNumber"), 16)
                for _ in range(3):
                    http.call("evm_mine")
                got = await _take(heads, 3)
            assert [int(h["number"], 16) for h in got] == [start + 1, start + 2, start + 3]
            assert [n async for n in heads] == []  # iteration ends after unsubscribe

    asyncio.run(main())


def test_ws_pending_transactions_with_full_txs(anvil_port: int) -> None:
    async def main() -> None:
        async with WsClient(f"ws://127.0.0.1:{anvil_port}", timeout=5.0) as ws:
            sender, receiver = (await ws.call("eth_accounts"))[:2]
            pending = await ws.subscribe("newPendingTransactions", True)
            tx_hash = await ws.call(
                "eth_sendTransaction", [{"from": sender, "to": receiver, "value": "0x1"}]
            )
            (tx,) = await _take(pending, 1)
            assert tx["hash"] == tx_hash and tx["from"].lower() == sender.lower()
            assert int(tx["value"], 16) == 1
            await pending.unsubscribe()

    asyncio.run(main())


class DropOnceProxy:
    """Forwards WebSocket frames to Anvil; ``drop()`` aborts the current client connection."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.connections: list[ServerConnection] = []

    async def handler(self, client: ServerConnection) -> None:
        self.connections.append(client)
        async with connect(self.upstream, proxy=None) as node:

            async def pump(src: Any, dst: Any) -> None:
                async for message in src:
                    await dst.send(message)

            tasks = [
                asyncio.create_task(pump(client, node)),
                asyncio.create_task(pump(node, client)),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def drop(self) -> None:
        self.connections[-1].transport.abort()  # no close frame: looks like a network failure


def test_ws_reconnects_and_resubscribes(anvil_port: int, http: RpcClient) -> None:
    async def wait_for_new_id(sub: Any, old: str) -> None:
        for _ in range(200):
            if sub.id not in (None, old):
                return
            await asyncio.sleep(0.025)
        raise AssertionError("not re-subscribed within 5 s")

    async def main() -> None:
        proxy = DropOnceProxy(f"ws://127.0.0.1:{anvil_port}")
        async with serve(proxy.handler, "127.0.0.1", 0) as server:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            reconnect = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.1)
            async with WsClient(url, timeout=5.0, reconnect=reconnect) as ws:
                heads = await ws.subscribe("newHeads")
                http.call("evm_mine")
                (first,) = await _take(heads, 1)
                old_id = heads.id
                assert old_id is not None
                proxy.drop()
                await wait_for_new_id(heads, old_id)
                assert await ws.call("eth_chainId") == hex(31337)
                http.call("evm_mine")
                (second,) = await _take(heads, 1)
                assert int(second["number"], 16) == int(first["number"], 16) + 1
                assert len(proxy.connections) == 2

    asyncio.run(main())
