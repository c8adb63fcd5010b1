"""What the runner hears from the node: new heads and full pending transactions over
WebSocket, and a poll of the head over HTTP that catches what the WebSocket missed.

``ChainWatcher.next()`` returns ``HeadSeen`` (the chain reached at least this number; the
runner fetches every block up to it by number, so a missed notification leaves no gap) and
``PendingSeen`` (a pending transaction, stamped on arrival). ``WsClient`` reconnects and
re-subscribes by itself; when it gives up, the watcher starts a new one with backoff, for
ever: the runner keeps running through node restarts. Transactions announced while
disconnected are lost (a block is never lost).

The watcher reads on a thread of its own, with its own event loop, and hands what it heard
to the runner's loop: a notification is read and stamped when it reaches us, even while the
runner is busy with a block or another transaction (the stamp is the true start of its
latency), and nothing waits in the socket's buffer.

Events are handed over in order of arrival. A head does not jump the pending transactions
heard before it: which of them its block holds is known only once the block is fetched (one
announced for the next block can arrive just before the head), and one that the block
mined leaves the pending chain at once. Pending transactions wait in a bounded queue that
drops its oldest when full (``dropped_pending``): a flood of them never holds a block back
for long. A malformed notification (a head without
a number, a pending transaction that is not a transaction object) is skipped and counted in
``malformed``; it never stops the watcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.rpc import RpcClient, RpcError, RpcTransportError, WsClient
from workbench.rpc.redact import redact_url
from workbench.rpc.retry import RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeadSeen:
    number: int
    arrived_ns: int
    via: str  # "ws" or "poll"
    hash: str | None = None  # a WebSocket head's block hash (a poll reads the number only)


@dataclass(frozen=True, slots=True)
class PendingSeen:
    tx: dict[str, Any]  # the node's transaction object
    arrived_ns: int


Event = HeadSeen | PendingSeen
PENDING_QUEUE = 10_000
"""Pending transactions waiting for the runner at most; the oldest is dropped beyond."""


def head_number(head: Any) -> int | None:
    """A ``newHeads`` notification's block number; None when it carries none that parses."""
    number = head.get("number") if isinstance(head, dict) else None
    if not isinstance(number, str):
        return None
    try:
        value = int(number, 16)
    except ValueError:
        return None
    return value if value >= 0 else None


def is_transaction(item: Any) -> bool:
    """Whether a pending notification is a transaction object the runner can read."""
    return isinstance(item, dict) and all(
        isinstance(item.get(k), str) for k in ("hash", "from", "input", "nonce", "gas", "value")
    )


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
        on_skipped: Callable[[str], None] | None = None,
        pending_queue: int = PENDING_QUEUE,
    ) -> None:
        self.ws_url = ws_url
        self.rpc = rpc
        self.poll_seconds = poll_seconds
        self.reconnect = reconnect or RetryPolicy(
            max_attempts=1_000_000, base_delay=0.1, max_delay=2.0
        )
        self.on_reconnect = on_reconnect
        self.on_skipped = on_skipped  # called with "malformed_head", "dropped_pending", ...
        self.connections = 0
        self.malformed: Counter[str] = Counter()  # "head" / "pending": skipped notifications
        self.dropped = 0  # pending transactions dropped from the full queue (the oldest)
        # Both live on the runner's loop (the watcher thread hands items over to it), each
        # event with its arrival sequence number.
        self._seq = 0
        self._heads_q: deque[tuple[int, HeadSeen]] = deque()
        self._pending_q: deque[tuple[int, PendingSeen]] = deque(maxlen=pending_queue)
        self._ready = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None  # the runner's
        self._own_loop: asyncio.AbstractEventLoop | None = None  # the watcher thread's
        self._main: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._subscribed = threading.Event()
        self._error: BaseException | None = None

    async def start(self, timeout: float = 30.0) -> None:
        """Subscribes (and starts polling) on the watcher thread; returns once the first
        subscriptions are live, so that nothing the node announces after this call is
        missed."""
        self._loop = asyncio.get_running_loop()
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="chain-watcher", daemon=True
        )
        self._thread.start()
        await asyncio.to_thread(started.wait)
        subscribed = await asyncio.to_thread(self._subscribed.wait, timeout)
        if self._error is not None:
            raise self._error
        if not subscribed:
            await self.stop()
            raise TimeoutError(
                f"no WebSocket subscription to {redact_url(self.ws_url)} within {timeout:g} s"
            )

    async def next(self) -> Event:
        """The next thing heard since ``start``, in order of arrival (see the module
        docstring; raises if the watcher failed for good)."""
        while True:
            if self._error is not None:
                raise self._error
            heads, pending = self._heads_q, self._pending_q
            if heads and (not pending or heads[0][0] < pending[0][0]):
                return heads.popleft()[1]
            if pending:
                return pending.popleft()[1]
            self._ready.clear()
            await self._ready.wait()

    async def stop(self) -> None:
        if self._own_loop is not None and self._main is not None:
            with contextlib.suppress(RuntimeError):  # its loop has already closed
                self._own_loop.call_soon_threadsafe(self._main.cancel)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    def _run(self, started: threading.Event) -> None:
        """The watcher thread: its own loop, until ``stop`` cancels it (``asyncio.run``
        then cancels and awaits what is left, such as the WebSocket's own tasks)."""

        async def main() -> None:
            self._own_loop = asyncio.get_running_loop()
            self._main = asyncio.current_task()
            started.set()
            await asyncio.gather(self._listen(), self._poll())

        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # handed to the runner by next()
            self._error = exc
            self._subscribed.set()
            self._put(None)
        finally:
            started.set()

    def _put(self, event: Event | None) -> None:
        """Hands ``event`` to the runner's loop (dropped once that loop has closed); None
        only wakes ``next()``."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._take, event)

    def _take(self, event: Event | None) -> None:
        """On the runner's loop: queues ``event`` and wakes ``next()``."""
        self._seq += 1
        if isinstance(event, HeadSeen):
            self._heads_q.append((self._seq, event))
        elif isinstance(event, PendingSeen):
            if len(self._pending_q) == self._pending_q.maxlen:
                self.dropped += 1
                self._skipped("dropped_pending")
            self._pending_q.append((self._seq, event))  # a full deque drops its oldest
        self._ready.set()

    def _skipped(self, what: str) -> None:
        if self.on_skipped is not None:
            self.on_skipped(what)

    def _malformed(self, kind: str, item: Any) -> None:
        self.malformed[kind] += 1
        log.warning("skipped a malformed %s notification: %.200r", kind, item)
        self._skipped(f"malformed_{kind}")

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
                log.warning(
                    "WebSocket %s failed (%s); again in %.2f s", redact_url(self.ws_url), exc, delay
                )
                await asyncio.sleep(delay)

    async def _heads(self, sub: Any) -> None:
        async for head in sub:
            number = head_number(head)
            if number is None:
                self._malformed("head", head)
                continue
            block_hash = head.get("hash")
            self._put(
                HeadSeen(
                    number,
                    time.perf_counter_ns(),
                    "ws",
                    block_hash.lower() if isinstance(block_hash, str) else None,
                )
            )

    async def _pending(self, sub: Any, ws: WsClient) -> None:
        async for item in sub:
            arrived = time.perf_counter_ns()
            if isinstance(item, str):  # a node that sends hashes only
                with contextlib.suppress(RpcError, RpcTransportError):
                    item = await ws.call("eth_getTransactionByHash", [item])
                if item is None:
                    continue  # mined or dropped before we asked
            if not is_transaction(item):
                self._malformed("pending", item)
                continue
            self._put(PendingSeen(item, arrived))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                answer = await asyncio.to_thread(self.rpc.call, "eth_blockNumber")
            except (RpcError, RpcTransportError) as exc:
                log.warning("polling the head failed: %s", exc)
                continue
            number = head_number({"number": answer})
            if number is None:
                self._malformed("head", answer)
                continue
            self._put(HeadSeen(number, time.perf_counter_ns(), "poll"))
