"""The live runner's ChainWatcher against a scripted local WebSocket node that sends malformed
heads and pending transactions: each is skipped and counted, the watcher keeps going; heads
are handed over before waiting pending transactions, and a full pending queue drops its
oldest."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve

from live.watch import ChainWatcher, HeadSeen, PendingSeen, head_number, is_transaction
from workbench.rpc import RpcClient

GOOD_TX = {
    "hash": "0x" + "ab" * 32,
    "from": "0x" + "11" * 20,
    "to": "0x" + "22" * 20,
    "input": "0x",
    "nonce": "0x1",
    "gas": "0x5208",
    "value": "0x0",
}
HEADS = [{"nombre": "0x1"}, {"number": "0xzz"}, {"number": 7}, "0x4", {"number": "0x5"}]
PENDING = [["not", "a", "tx"], {"hash": "0x12"}, "0x" + "cd" * 32, GOOD_TX]


async def _node(conn: ServerConnection) -> None:
    async for raw in conn:
        req = orjson.loads(raw)
        rid, method, params = req["id"], req["method"], req.get("params") or []
        if method == "eth_subscribe":
            sid = "0x1" if params[0] == "newHeads" else "0x2"
            await conn.send(orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": sid}).decode())
            for item in HEADS if sid == "0x1" else PENDING:
                note = {"subscription": sid, "result": item}
                await conn.send(
                    orjson.dumps(
                        {"jsonrpc": "2.0", "method": "eth_subscription", "params": note}
                    ).decode()
                )
        else:  # eth_getTransactionByHash of the hash-only notification: gone already
            await conn.send(orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": None}).decode())


def test_what_counts_as_a_head_and_a_transaction() -> None:
    assert head_number({"number": "0x10"}) == 16
    assert [head_number(h) for h in HEADS[:4]] == [None, None, None, None]
    assert is_transaction(GOOD_TX)
    assert not any(is_transaction(p) for p in PENDING[:3])
    assert not is_transaction({**GOOD_TX, "nonce": None})


def test_malformed_notifications_are_skipped_and_counted() -> None:
    skipped: list[str] = []

    async def watch() -> tuple[ChainWatcher, list[Any]]:
        async with serve(_node, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            with RpcClient("http://127.0.0.1:9") as rpc:  # never polled within the test
                watcher = ChainWatcher(
                    f"ws://127.0.0.1:{port}", rpc, poll_seconds=3600, on_skipped=skipped.append
                )
                await watcher.start(timeout=10)
                try:
                    got = [await asyncio.wait_for(watcher.next(), 10) for _ in range(2)]
                    await asyncio.sleep(0.2)  # anything else the node sent has arrived
                finally:
                    await watcher.stop()
        return watcher, got

    watcher, got = asyncio.run(watch())
    heads = [e.number for e in got if isinstance(e, HeadSeen)]
    pending = [e.tx["hash"] for e in got if isinstance(e, PendingSeen)]
    assert heads == [5] and pending == [GOOD_TX["hash"]]
    assert watcher.malformed == {"head": 4, "pending": 2}
    assert sorted(skipped) == ["malformed_head"] * 4 + ["malformed_pending"] * 2


def _handed_over(watcher: ChainWatcher, events: list[Any], n: int) -> list[Any]:
    async def take() -> list[Any]:
        for event in events:  # as the watcher thread hands them over, on the runner's loop
            watcher._take(event)
        return [await asyncio.wait_for(watcher.next(), 1) for _ in range(n)]

    return asyncio.run(take())


def _pending(i: int) -> PendingSeen:
    return PendingSeen({**GOOD_TX, "hash": f"0x{i}"}, i)


def test_arrival_order_and_a_full_pending_queue_drops_its_oldest() -> None:
    skipped: list[str] = []
    rpc = RpcClient("http://127.0.0.1:9")
    watcher = ChainWatcher("ws://127.0.0.1:9", rpc, pending_queue=3, on_skipped=skipped.append)
    events = [*(_pending(i) for i in range(5)), HeadSeen(9, 10, "ws")]
    got = _handed_over(watcher, events, 4)
    shown = [e.number if isinstance(e, HeadSeen) else e.tx["hash"] for e in got]
    assert shown == ["0x2", "0x3", "0x4", 9]  # a head after what was heard before it
    assert watcher.dropped == 2 and skipped == ["dropped_pending"] * 2
