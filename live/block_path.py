"""The live runner's block path (a part of ``LiveEngine``): every block after the last one
processed is fetched by number, checked to build on it (else the reorg is walked back, see
``live.reorg``), mined on the follower, its slot closed, settled and stored, and the next
slot opened; pending transactions are applied to the open slot's pending chain."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable

from live.executors import ShadowExecutor, Tally
from live.follower import FOLLOWER_FAULTS, Follower
from live.metrics import LiveMetrics
from live.pending_chain import PendingChain
from live.reorg import ChainJournal, fork_point, unsettle_after
from live.run_record import reorg_note
from live.safekeeping import Safekeeping
from live.store_writer import StoreWriter
from live.submit import BundleSender
from live.watch import PendingSeen
from workbench.chain.eip1559 import next_base_fee
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.bootstrap import moved_by, watched_pools
from workbench.engine.loop import BlockLoop, BlockResult, OpenSlot
from workbench.engine.searcher import Searcher
from workbench.errors import DatasetError
from workbench.market.market_state import MarketState
from workbench.rpc import RpcClient, RpcError, RpcTransportError
from workbench.sources.block_fetch import ChainChanged
from workbench.sources.block_view import BlockData
from workbench.strategy.context import BlockEnv

log = logging.getLogger("live.engine")

MALFORMED = (KeyError, ValueError, TypeError, IndexError, AttributeError, DatasetError)
"""What reading a node's block that is not one raises (a field missing or of another kind)."""


class BlockPath:
    """The block path's methods; ``LiveEngine`` holds the state they work on."""

    rpc: RpcClient
    market: DeployedMarket
    block_time: int
    metrics: LiveMetrics | None
    tally: Tally
    executor: ShadowExecutor
    sender: BundleSender | None
    searcher: Searcher | None
    safekeeping: Safekeeping | None
    follower: Follower | None
    loop: BlockLoop | None
    head: int
    chain_head: int
    head_seen_at: float
    _state: MarketState | None
    _chain: PendingChain
    _nonce: int | None
    _store: StoreWriter
    _journal: ChainJournal
    _replaying: dict[int, OpenSlot]
    _on_block_cb: Callable[[BlockResult], None] | None

    def _fetch(self, number: int) -> BlockData:  # LiveEngine's
        raise NotImplementedError

    def _skipped(self, what: str) -> None:  # LiveEngine's
        raise NotImplementedError

    async def _catch_up(self, until_block: int | None) -> None:
        """Processes every block after the last one up to the chain head, by number."""
        while self.head < self.chain_head and (until_block is None or self.head < until_block):
            number = self.head + 1
            try:
                block = await asyncio.to_thread(self._fetch, number)
            except (RpcError, RpcTransportError, ChainChanged) as exc:
                log.warning("fetching block %d failed (%s); retrying on the next head", number, exc)
                return
            except MALFORMED as exc:  # the node answered something that is not a block
                self._skipped("malformed_block")
                log.warning("block %d is malformed (%r); retrying on the next head", number, exc)
                return
            if not self._journal.links(block):
                if not await self._reorg():
                    return
                continue
            try:
                await self._block(block)
            except FOLLOWER_FAULTS as exc:
                log.warning(
                    "block %d: the follower failed (%s); retrying on the next head", number, exc
                )
                return
            if number < self.chain_head:
                self.tally.backfilled += 1
                if self.metrics is not None:
                    self.metrics.backfilled(1)

    # -- blocks ---------------------------------------------------------------------------

    def _moved(self, block: BlockData) -> frozenset[str]:
        assert self._state is not None
        return moved_by(block.logs, self._state.pools)

    async def _block(self, block: BlockData) -> None:
        """Closes the slot of ``block`` (judged, settled, recorded) and opens the next, whose
        top-of-block intents it executes."""
        started = time.perf_counter()
        assert self.follower is not None and self._state is not None and self.loop is not None
        ours = self.loop.env is not None and self.loop.env.number == block.number
        if ours:  # what the public mempool showed us of it
            block = dataclasses.replace(block, first_seen_ms=self._chain.public_in(block))
        # Everything that needs the follower first: if it fails, nothing has happened yet
        # and the block is processed again at the next head (after a re-fork).
        try:
            fidelity = self.follower.advance(block)
            assert self.searcher is not None
            self._nonce = int(
                self.follower.node.rpc.call(
                    "eth_getTransactionCount", [self.searcher.account.address, "latest"]
                ),
                16,
            )
            result = self.loop.close(block, fidelity)
            if self.safekeeping is not None:
                self.safekeeping.settle_restored(block)
        except FOLLOWER_FAULTS:
            self.follower.broken = self.follower.broken or "failed while mining a block"
            self._nonce = None
            raise
        if ours:
            self._store.record(result)
        final = self._journal.add(block, self.loop.last_closed)
        if final is not None:
            self.executor.finalise(final.closed.attempts if final.closed else [], final.number)
        self._state.apply_all(block.logs)
        self.head = block.number
        if self.safekeeping is not None:
            self.safekeeping.persist()
        self.head_seen_at = time.monotonic()
        self.tally.blocks += 1
        await self._open_slot(block, moved=self._moved(block))
        if self.metrics is not None:
            self.metrics.block(block.number, time.perf_counter() - started)
        if self._on_block_cb is not None:
            self._on_block_cb(result)

    async def _open_slot(self, parent: BlockData, *, moved: frozenset[str]) -> None:
        """Opens the slot for the block after ``parent`` and executes its ``on_block`` intents."""
        assert self._state is not None and self.loop is not None
        env = BlockEnv(
            number=parent.number + 1,
            timestamp=parent.timestamp + self.block_time,
            base_fee=next_base_fee(parent.base_fee, parent.gas_used, parent.gas_limit),
            gas_limit=parent.gas_limit,
            parent_gas_used=parent.gas_used,
        )
        pools = self._state.pools
        self._chain.reset(pools)
        again = self._replaying.pop(env.number, None)
        if again is not None:  # decided before a reorg: its bundles are out already
            self.loop.resume(again)
            return
        self.loop.open(env, parent.miner, pools, moved)
        self.executor.prepare(env.number, self._store.pool)
        await self.loop.top_of_block(time.perf_counter_ns())

    # -- reorgs --------------------------------------------------------------------------

    async def _reorg(self) -> bool:
        """Walks back to where the node's chain and the processed one part (see
        ``live.reorg``); False when the node or the follower failed (tried again later)."""
        assert self.loop is not None
        try:
            fork = await asyncio.to_thread(fork_point, self.rpc, self._journal)
            parent = await asyncio.to_thread(self._rewind_to, fork)
        except (RpcError, RpcTransportError, ChainChanged, *FOLLOWER_FAULTS, *MALFORMED) as exc:
            log.warning("walking back through a reorg failed (%s); again on the next head", exc)
            return False
        log.warning(
            "reorg: blocks %d-%d were orphaned; settled again from block %d on",
            fork + 1,
            self.head,
            fork + 1,
        )
        # (slots of an earlier reorg that are still ahead stay)
        orphaned = unsettle_after(fork, self._journal, self.loop, self.executor, self._replaying)
        self._store.drop_from(fork + 1, reorg_note(fork, orphaned))
        self.tally.reorgs += 1
        self.tally.orphaned_blocks += len(orphaned)
        if self.metrics is not None:
            self.metrics.reorg(len(orphaned))
        self.head = fork
        await self._open_slot(parent, moved=self._moved(parent))
        return True

    def _rewind_to(self, fork: int) -> BlockData:
        """The follower re-forked at ``fork``, the pools and our nonce as of it; its block."""
        assert self.follower is not None and self.searcher is not None
        parent = self._fetch(fork)
        self.follower.recover(fork)
        rpc = self.follower.node.rpc
        self._state = MarketState(watched_pools(rpc, self.market), unknown_pools="ignore")
        count = int(
            rpc.call("eth_getTransactionCount", [self.searcher.account.address, "latest"]), 16
        )
        self._nonce = count
        if self.sender is not None:
            self.sender.nonces.rewind(count)  # an orphaned transaction frees its nonce
        return parent

    # -- pending transactions -------------------------------------------------------------

    async def _pending(self, event: PendingSeen) -> None:
        loop, follower = self.loop, self.follower
        env = loop.env if loop is not None else None
        if loop is None or env is None or follower is None:
            return
        try:
            applied = await self._chain.apply(event, env, follower, self.rpc)
            if applied is not None:
                await loop.pending(applied.tx, applied.placement, applied.moved, applied.pools)
        except Exception:  # one transaction's trouble never stops the runner
            self._skipped("failed_pending")
            log.exception("pending %.80r: skipped after an unexpected error", event.tx.get("hash"))
