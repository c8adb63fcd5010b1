"""Records pending transactions from a node's WebSocket into a dataset's ``mempool`` table.

Subscribes to ``newPendingTransactions`` with full transaction objects (falling back to hashes
plus ``eth_getTransactionByHash`` when the node only sends hashes). The receive loop does
nothing but stamp each transaction with the local time (``first_seen_ms``) and queue it; a
flusher adds the raw bytes (re-encoded from the signed fields when they hash to the transaction
hash, else asked for with ``eth_getRawTransactionByHash``) and writes a part every
``flush_seconds`` or ``flush_rows``, so a crash loses little. ``WsClient``
reconnects and re-subscribes after a drop; transactions announced while disconnected are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import ConfigError
from workbench.rpc import RpcError, Subscription, WsClient
from workbench.rpc.redact import redact_url
from workbench.sources.block_fetch import unsupported
from workbench.sources.dataset import Dataset
from workbench.sources.mempool_join import join_inclusion
from workbench.sources.raw_tx import verified_raw
from workbench.sources.rpc_convert import frame, mempool_row, quantity

CONCURRENT_CALLS = 100


@dataclass(slots=True)
class RecordReport:
    """What one ``record_mempool`` run did."""

    dataset: Path
    source: str
    rows: int = 0
    parts: int = 0
    hashes_only: bool = False  # the node sent hashes, not full transactions
    raw_missing: int = 0
    mempool_joined: int = 0
    seconds: float = 0.0


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Recorder:
    def __init__(self, ws: WsClient, ds: Dataset, report: RecordReport, flush_rows: int) -> None:
        self.ws = ws
        self.ds = ds
        self.report = report
        self.flush_rows = flush_rows
        self.queue: list[tuple[int, Any]] = []  # (first_seen_ms, tx object or hash)
        self.seen: set[str] = set()
        self.wake = asyncio.Event()  # flush now: the queue is full, or recording stops
        self.stopping = False
        self.writing = asyncio.Lock()
        self.raw_by_hash = True

    async def receive(self, sub: Subscription) -> None:
        async for item in sub:
            seen_ms = _now_ms()
            tx_hash = item if isinstance(item, str) else item.get("hash")
            if not isinstance(tx_hash, str) or tx_hash in self.seen:
                continue  # re-announced (e.g. after a reconnect): keep the first sighting
            self.seen.add(tx_hash)
            self.queue.append((seen_ms, item))
            if len(self.queue) >= self.flush_rows:
                self.wake.set()

    async def flush_every(self, seconds: float) -> None:
        """Flushes periodically; after ``stop()`` flushes once more and returns. Never
        cancelled, so a batch taken from the queue is always written."""
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), seconds)
            self.wake.clear()
            await self.flush()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()

    async def flush(self) -> None:
        async with self.writing:
            batch, self.queue = self.queue, []
            if not batch:
                return
            hashes = [item if isinstance(item, str) else str(item["hash"]) for _, item in batch]
            txs = [None if isinstance(item, str) else item for _, item in batch]
            lacking = [i for i, tx in enumerate(txs) if tx is None]
            fetched = await self._calls("eth_getTransactionByHash", [hashes[i] for i in lacking])
            for i, tx in zip(lacking, fetched, strict=True):
                txs[i] = tx if isinstance(tx, dict) else None  # None: mined or dropped meanwhile
            raws = await self._raws(hashes, txs)
            self.report.raw_missing += raws.count(None)
            rows = [
                mempool_row(
                    tx, tx_hash=h, first_seen_ms=seen_ms, source=self.report.source, raw=raw
                )
                for (seen_ms, _), h, tx, raw in zip(batch, hashes, txs, raws, strict=True)
            ]
            await asyncio.to_thread(self.ds.append_mempool, frame("mempool", rows))
            self.report.rows += len(rows)
            self.report.parts += 1

    async def _raws(self, hashes: list[str], txs: list[Any]) -> list[str | None]:
        """Verified raw bytes: re-encoded, or from the node where re-encoding does not hash."""
        raws = [verified_raw(tx) if tx is not None else None for tx in txs]
        unknown = [i for i, raw in enumerate(raws) if raw is None] if self.raw_by_hash else []
        answers = await self._calls("eth_getRawTransactionByHash", [hashes[i] for i in unknown])
        if any(isinstance(a, RpcError) and unsupported(a) for a in answers):
            self.raw_by_hash = False
        for i, answer in zip(unknown, answers, strict=True):
            raws[i] = verified_raw(txs[i] or {"hash": hashes[i]}, answer)
        return raws

    async def _calls(self, method: str, params: Sequence[str]) -> list[Any]:
        """Results, or the exception raised, per call: a failed lookup must not lose the rows."""
        out: list[Any] = []
        for i in range(0, len(params), CONCURRENT_CALLS):
            calls = (self.ws.call(method, [p]) for p in params[i : i + CONCURRENT_CALLS])
            out += await asyncio.gather(*calls, return_exceptions=True)
        return out


async def _subscribe(ws: WsClient) -> tuple[Subscription, bool]:
    """Full transaction objects if the node offers them, else hashes."""
    try:
        return await ws.subscribe("newPendingTransactions", True), True
    except RpcError:
        return await ws.subscribe("newPendingTransactions"), False


async def record_mempool(
    ws_url: str,
    out: Path | str,
    *,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    flush_seconds: float = 5.0,
    flush_rows: int = 1000,
) -> RecordReport:
    """Records pending transactions seen on ``ws_url`` into the dataset at ``out`` for
    ``duration`` seconds (or until ``stop`` is set), then joins them with any blocks it holds.

    Rows seen so far are written even when the WebSocket fails for good (its error re-raised).
    """
    if duration is not None and duration <= 0:
        raise ConfigError(f"duration must be positive seconds, got {duration:g}")
    if flush_seconds <= 0 or flush_rows < 1:
        raise ConfigError("flush_seconds must be positive and flush_rows at least 1")
    parts = urlsplit(ws_url)
    started = time.perf_counter()
    async with WsClient(ws_url) as ws:
        chain_id = quantity(await ws.call("eth_chainId"))
        assert chain_id is not None
        ds = await asyncio.to_thread(
            Dataset.open_or_create, out, chain_id=chain_id, source="ws:" + redact_url(ws_url)
        )
        report = RecordReport(ds.root, source=parts.netloc.rsplit("@", 1)[-1])
        sub, full = await _subscribe(ws)
        report.hashes_only = not full
        recorder = _Recorder(ws, ds, report, flush_rows)
        receiver = asyncio.create_task(recorder.receive(sub))
        flusher = asyncio.create_task(recorder.flush_every(flush_seconds))
        stopped = asyncio.create_task((stop or asyncio.Event()).wait())
        try:
            await asyncio.wait(
                (receiver, flusher, stopped), timeout=duration, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            receiver.cancel()
            stopped.cancel()
            recorder.stop()
            await asyncio.gather(receiver, stopped, flusher, return_exceptions=True)
            await recorder.flush()  # what is left if the flusher failed
        for task in (receiver, flusher):
            if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
                raise exc
    if ds.rows("transactions"):
        report.mempool_joined = await asyncio.to_thread(join_inclusion, ds)
    report.seconds = time.perf_counter() - started
    return report
