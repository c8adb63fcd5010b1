"""What the runner hears from the node: new heads and full pending transactions over
WebSocket, and a poll of the head over HTTP that catches what the WebSocket missed.

``ChainWatcher.next()`` returns ``HeadSeen`` (the chain reached at least this number; the
runner fetches every block up to it by number, so a missed notification leaves no gap) and
``PendingSeen`` (a pending transaction, stamped on arrival). ``WsClient`` reconnects and
re-subscribes by itself; when it gives up, the watcher starts a new one with backoff, for
ever: the runner keeps running through node restarts. Transactions announced while
disconnected are lost (a block is never lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.chain.rpc import RpcClient, RpcError, RpcTransportError, WsClient
from workbench.chain.rpc.retry import RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeadSeen:
    number: int
    arrived_ns: int
    via: str  # "ws" or "poll"


@dataclass(frozen=True, slots=True)
class PendingSeen:
    tx: dict[str, Any]  # the node's transaction object
    arrived_ns: int


Event = HeadSeen | PendingSeen


class ChainWatcher:
    """Heads and pending transactions of the node at ``ws_url`` / ``rpc`` (see module doc)."""

    def __init__(
        self,
        ws_url: str,
        rpc: RpcClient,
        *,
        poll_seconds: float = 1.0,
        reconnect: RetryPolicy | None = None,
        on_reconnect: Callable[[], None] | None = None,
    ) -> None:
        self.ws_url = ws_url
        self.rpc = rpc
        self.poll_seconds = poll_seconds
        self.reconnect = reconnect or RetryPolicy(
            max_attempts=1_000_000, base_delay=0.1, max_delay=2.0
        )
        self.on_reconnect = on_reconnect
        self.connections = 0
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, timeout: float = 30.0) -> None:
        """Subscribes (and starts polling); returns once the first subscriptions are live, so
        that nothing the node announces after this call is missed."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="watch-ws"),
            asyncio.create_task(self._poll(), name="watch-poll"),
        ]
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def next(self) -> Event:
        """The next thing heard since ``start``, in order of arrival (raises if a watcher task
        failed for good)."""
        for task in self._tasks:
            if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
                raise exc
        return await self._queue.get()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _listen(self) -> None:
        """One WsClient after another; each re-subscribes on its own reconnects."""
        failures = 0
        while True:
            try:
                async with WsClient(
                    self.ws_url,
                    reconnect=RetryPolicy(max_attempts=20, base_delay=0.05, max_delay=1.0),
                ) as ws:
                    heads = await ws.subscribe("newHeads")
                    pending = await ws.subscribe("newPendingTransactions", True)
                    self.connections += 1
                    self._subscribed.set()
                    if self.connections > 1 and self.on_reconnect is not None:
                        self.on_reconnect()
                    failures = 0
                    await asyncio.gather(self._heads(heads), self._pending(pending, ws))
            except (RpcTransportError, RpcError, OSError) as exc:
                failures += 1
                delay = self.reconnect.delay(min(failures - 1, 30), lambda: 0.5)
                log.warning("WebSocket %s failed (%s); again in %.2f s", self.ws_url, exc, delay)
                await asyncio.sleep(delay)

    async def _heads(self, sub: Any) -> None:
        async for head in sub:
            self._queue.put_nowait(HeadSeen(int(head["number"], 16), time.perf_counter_ns(), "ws"))

    async def _pending(self, sub: Any, ws: WsClient) -> None:
        async for item in sub:
            arrived = time.perf_counter_ns()
            if isinstance(item, str):  # a node that sends hashes only
                with contextlib.suppress(RpcError, RpcTransportError):
                    item = await ws.call("eth_getTransactionByHash", [item])
                if not isinstance(item, dict):
                    continue
            self._queue.put_nowait(PendingSeen(item, arrived))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                number = int(await asyncio.to_thread(self.rpc.call, "eth_blockNumber"), 16)
            except (RpcError, RpcTransportError) as exc:
                log.warning("polling the head failed: %s", exc)
                continue
            self._queue.put_nowait(HeadSeen(number, time.perf_counter_ns(), "poll"))
