"""The live runner: the backtest's block loop (``workbench.engine.loop``) with a live clock.
The node's blocks and pending transactions come in through the watcher; the same strategy
object's intents go to the executor (``live.executors``: shadow records, relay sends).

For each new block N (fetched by number, so none is missed; ``live.block_path``): the follower
mines it, the slot built for N is closed against it exactly as a backtest closes a recorded
block (competition, revert risk, whether the trade still worked after N; our bundles for N
reconciled), stored as a backtest stores a block, and the slot for N+1 opens: ``on_block`` at
once, then
``on_pending`` for each pending transaction that moves a known pool, with the pools right
after it on the follower's pending chain. Over the same blocks, with the pending transactions
in block order, a shadow run and a backtest make the same decisions.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount

from live.block_path import BlockPath
from live.executors import LiveContext, Publish, RelayExecutor, ShadowExecutor, Tally
from live.follower import Follower
from live.metrics import LiveMetrics
from live.pending_chain import PendingChain
from live.reorg import DEFAULT_CONFIRMATIONS, ChainJournal
from live.risk import RiskManager
from live.run_record import end_run, live_run_spec, start_run
from live.safekeeping import Safekeeping
from live.store_writer import StoreWriter
from live.submit import BundleSender
from live.watch import ChainWatcher, HeadSeen
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.bootstrap import execution_config, watched_pools
from workbench.engine.loop import BlockLoop, BlockResult, OpenSlot
from workbench.engine.searcher import EXECUTOR_ADDRESS, Searcher, install_searcher
from workbench.errors import AnvilError
from workbench.execution.bundle import ExecutionConfig
from workbench.execution.simulate import AnvilSimulator
from workbench.market.graph import CycleIndex, find_cycles
from workbench.market.market_state import MarketState
from workbench.market.pool import Pool
from workbench.rpc import RpcClient
from workbench.sources.block_fetch import BlockFetcher
from workbench.sources.block_view import BlockData, blocks_of
from workbench.store import RunInfo
from workbench.strategy.api import Strategy
from workbench.strategy.models import WinModel

log = logging.getLogger(__name__)

Mode = Literal["shadow", "live"]
SWITCH_INTERVAL_S = 0.0005
"""How long another thread may keep the interpreter lock from the runner's loop."""
KILL_SWITCH_S = 0.2
"""How often the kill-switch file is looked for when no event comes."""


class LiveEngine(BlockPath):
    """Runs ``strategy`` against the node at ``rpc_url`` / ``ws_url`` (see module docstring).

    ``searcher`` and ``sender`` are required in live mode; in shadow mode a throwaway searcher
    with ``capital`` WETH is installed on the follower (as in a backtest) unless given.
    """

    def __init__(
        self,
        *,
        strategy: Strategy,
        strategy_name: str,
        config: Mapping[str, Any],
        rpc_url: str,
        ws_url: str,
        market: DeployedMarket,
        risk: RiskManager,
        mode: Mode = "shadow",
        searcher: Searcher | None = None,
        sender: BundleSender | None = None,
        capital: int = 100 * 10**18,
        inclusion: WinModel | None = None,
        block_time: int = 12,
        db_url: str | None = None,
        metrics: LiveMetrics | None = None,
        publish: Publish | None = None,
        poll_seconds: float = 1.0,
        confirmations: int = DEFAULT_CONFIRMATIONS,
        risk_state: Path | None = None,
    ) -> None:
        if mode == "live" and (searcher is None or sender is None):
            raise ValueError("live mode needs a searcher (keystore, Executor) and a bundle sender")
        if sender and searcher and sender.account.address != searcher.account.address:
            raise ValueError("the bundle sender must sign with the searcher's account")
        self.strategy = strategy
        self.strategy_name = strategy_name
        self.config = dict(config)
        self.rpc_url = rpc_url
        self.ws_url = ws_url
        self.market = market
        self.risk = risk
        self.mode: Mode = mode
        self.searcher = searcher
        self.sender = sender
        self.capital = capital
        self.inclusion = inclusion
        self.block_time = block_time
        self.db_url = db_url
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.rpc = RpcClient(rpc_url)
        self.fetcher = BlockFetcher(self.rpc)
        self.tally = Tally()
        ctx = LiveContext(
            simulator=self._simulator,
            risk=risk,
            tally=self.tally,
            weth=market.weth,
            executor_address=searcher.executor if searcher else EXECUTOR_ADDRESS,
            nonce=lambda: self._nonce,
            follower_failed=self._follower_failed,
            metrics=metrics,
        )
        self.executor: ShadowExecutor = (
            RelayExecutor(ctx, sender, lambda: self.chain_head)
            if mode == "live" and sender is not None
            else ShadowExecutor(ctx)
        )
        self.publish = publish
        self.head = -1  # the last block processed
        self.chain_head = -1  # the highest block the node announced
        self.head_seen_at = time.monotonic()
        self.run_info: RunInfo | None = None
        self.follower: Follower | None = None
        self.started_at = datetime.now(UTC)
        self.loop: BlockLoop | None = None
        self._state: MarketState | None = None
        self._chain = PendingChain(own=set())  # the open slot's pending transactions
        self._cfg: ExecutionConfig | None = None
        self._sim: AnvilSimulator | None = None
        # our account's transaction count on the follower, between blocks (None: ask)
        self._nonce: int | None = None
        self._on_block_cb: Callable[[BlockResult], None] | None = None
        self._store = StoreWriter(db_url, lambda: self.run_info, self._set_run)
        self._journal = ChainJournal(confirmations)  # processed blocks not yet final
        self._replaying: dict[int, OpenSlot] = {}  # after a reorg: slots to settle again
        # live mode: the risk state on disk, taken over at start, cancelled on every halt
        self.safekeeping = (
            Safekeeping(
                risk_state,
                risk=risk,
                sender=sender,
                tally=self.tally,
                weth=market.weth,
                executor=ctx.executor_address,
                writer=lambda: self._store.pool,
            )
            if sender is not None and mode == "live"
            else None
        )
        if self.safekeeping is not None:
            ctx.persist = self.safekeeping.persist
        self.halted: str | None = None  # why the run stopped trading, once it has

    # -- set-up ---------------------------------------------------------------------------

    def _start(self, start_block: int | None) -> BlockData:
        head = start_block if start_block is not None else int(self.rpc.call("eth_blockNumber"), 16)
        parent = self._fetch(head)
        chain_id = int(self.rpc.call("eth_chainId"), 16)
        prepare = None
        if self.searcher is None:  # shadow: a throwaway searcher, as in a backtest
            account: LocalAccount = Account.create()  # never printed, never stored
            self.searcher = Searcher(account, EXECUTOR_ADDRESS)

            def prepare(node: AnvilControl) -> None:  # on every fresh fork
                install_searcher(node, self.market.weth, self.capital, account)

        self.follower = Follower(self.rpc_url, head, prepare=prepare).start()
        node = self.follower.node
        pools = watched_pools(node.rpc, self.market)
        self._state = MarketState(pools, unknown_pools="ignore")
        self.loop = BlockLoop(
            self.strategy,
            self.executor,
            base_token=self.market.weth,
            cycles=CycleIndex.of(find_cycles(pools, self.market.weth)),
            inclusion=self.inclusion,
        )
        self._chain.own = {self.searcher.account.address.lower()}
        cfg = execution_config(self.market, chain_id, self.searcher.executor)
        self._cfg = cfg
        spec = live_run_spec(
            strategy=self.strategy_name,
            config=self.config,
            rpc_url=self.rpc_url,
            chain_id=chain_id,
            head=head,
            mode=self.mode,
            session=self.started_at,
            capital_cap=self.risk.limits.capital_cap,
            inclusion=self.inclusion,
        )
        self.run_info = start_run(self.db_url, spec)
        if self.safekeeping is not None:
            self.safekeeping.take_over(self.rpc, head)
        self.head = head
        self.chain_head = head
        self._journal.add(parent, None)
        return parent

    def follower_node(self) -> AnvilControl:
        """The follower's current Anvil (token safety checks run on it)."""
        if self.follower is None:
            raise AnvilError("the runner has not started its follower yet")
        return self.follower.node

    def pools(self) -> Mapping[str, Pool]:
        """The pools as of the last block processed (lowercase address -> state)."""
        return {} if self._state is None else self._state.pools

    @property
    def publish(self) -> Publish | None:
        """Where decisions and reconciliations are announced (the status API's events)."""
        return self.executor.ctx.publish

    @publish.setter
    def publish(self, value: Publish | None) -> None:
        self.executor.ctx.publish = value

    def _set_run(self, run: RunInfo) -> None:
        self.run_info = run

    def _follower_failed(self, why: str) -> None:
        if self.follower is not None:
            self.follower.broken = why

    def _simulator(self) -> AnvilSimulator:
        """The simulator on the follower's current process (a recovery starts a new one)."""
        assert self.follower is not None and self.searcher is not None and self._cfg is not None
        if self._sim is None or self._sim.node is not self.follower.node:
            self._sim = AnvilSimulator(self.follower.node, self.searcher.account, self._cfg)
        return self._sim

    def _fetch(self, number: int) -> BlockData:
        tables = self.fetcher.fetch(number, number)
        return next(blocks_of(tables, {}))

    # -- the loop -------------------------------------------------------------------------

    async def run(
        self,
        *,
        stop: asyncio.Event | None = None,
        until_block: int | None = None,
        start_block: int | None = None,
        on_block: Callable[[BlockResult], None] | None = None,
    ) -> RunInfo:
        """Runs until ``stop`` is set or block ``until_block`` is processed; returns the run."""
        # Our other threads (the watcher, the store writer) hold the interpreter lock for at
        # most this long while the loop waits for it (Python's default is 5 ms).
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        watcher = ChainWatcher(
            self.ws_url,
            self.rpc,
            poll_seconds=self.poll_seconds,
            on_reconnect=self._reconnected,
            on_skipped=self._skipped,
        )
        await watcher.start()  # before reading the head: nothing announced after it is missed
        stopper = stop or asyncio.Event()
        stop_wait: asyncio.Future[Any] = asyncio.ensure_future(stopper.wait())
        getter: asyncio.Future[Any] | None = None
        crash: str | None = None
        try:
            parent = await asyncio.to_thread(self._start, start_block)
            self._on_block_cb = on_block
            await self._open_slot(parent, moved=self._moved(parent))
            while not stopper.is_set() and (until_block is None or self.head < until_block):
                if getter is None:
                    getter = asyncio.ensure_future(watcher.next())
                # woken at least every KILL_SWITCH_S: the kill switch needs no event to act
                await asyncio.wait(
                    {getter, stop_wait}, return_when=asyncio.FIRST_COMPLETED, timeout=KILL_SWITCH_S
                )
                if stopper.is_set() or self._kill_switch():
                    break
                if not getter.done():
                    continue
                event, getter = getter.result(), None
                if isinstance(event, HeadSeen):
                    self.chain_head = max(self.chain_head, event.number)
                    if self._journal.differs(event.number, event.hash):
                        await self._reorg()
                    await self._catch_up(until_block)
                else:
                    await self._pending(event)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise  # stopped (Ctrl-C): the run is finished, and resumes on the next start
        except BaseException as exc:
            crash = f"{type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            for future in (stop_wait, getter):
                if future is not None:
                    future.cancel()
            try:
                if self.safekeeping is not None:  # whatever ended the run: nothing stays out
                    why = self.halted or (f"crashed ({crash})" if crash else "stopped")
                    try:
                        await asyncio.to_thread(self.safekeeping.cancel_in_flight, why)
                    except Exception:  # the run is still stored; the state file keeps them
                        log.exception("cancelling the bundles in flight failed")
                await watcher.stop()
                await asyncio.to_thread(self._finish, crash)
            finally:
                sys.setswitchinterval(switch_interval)
        assert self.run_info is not None
        return self.run_info

    def _finish(self, crash: str | None) -> None:
        """Stores the run as finished, or as failed when it crashed (``crash``: why)."""
        if self.follower is not None:
            self.follower.stop()
        self._store.close()
        if self.run_info is not None:
            self.run_info = end_run(self.db_url, self.run_info, crash)

    def _kill_switch(self) -> bool:
        """Whether the kill-switch file appeared (looked for before every event, and every
        ``KILL_SWITCH_S`` without one): the run halts, its bundles in flight are cancelled."""
        if not self.risk.kill_switch_on():  # one stat() per event: microseconds
            return False
        self.halted = f"kill switch {self.risk.limits.kill_switch}"
        log.warning("%s: the run halts", self.halted)
        return True

    def _reconnected(self) -> None:
        if self.metrics is not None:
            self.metrics.reconnected()

    def _skipped(self, what: str) -> None:
        """An event skipped without stopping the run (thread-safe: counters only)."""
        self.tally.skipped[what] = self.tally.skipped.get(what, 0) + 1
        if self.metrics is not None:
            self.metrics.skipped(what)

    # -- status ---------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "strategy": self.strategy_name,
            "run_id": self.run_info.id if self.run_info else None,
            "head": self.head,
            "chain_head": self.chain_head,
            "head_age_s": round(time.monotonic() - self.head_seen_at, 3),
            "reforks": self.follower.reforks if self.follower else 0,
            **self.tally.counters(),
            "capital_at_risk_wei": self.risk.reserved,
            "capital_cap_wei": self.risk.limits.capital_cap,
            "rejected": dict(self.risk.rejected),
        }
