"""The backtest's loop with a live clock: the node's blocks and pending transactions in, the
same strategy object's intents out, simulated on the follower, checked by the risk manager,
and sent to relays (live) or only recorded (shadow).

For each new block N (fetched by number, so none is missed): the slot built for N is judged
against it exactly as a backtest judges a recorded block (competition, revert risk, whether
the trade still worked after N), our bundles for N are reconciled (landed or not, realised
net from the receipts), everything is stored as a backtest stores a block, and a slot for N+1
opens: ``on_block`` at once, then ``on_pending`` for each pending transaction that moves a
known pool, with the pools right after it. Over the same blocks, with the pending
transactions in block order, a shadow run and a backtest make the same decisions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount

from live.follower import Follower
from live.metrics import LiveMetrics
from live.reconcile import Realised, realised
from live.risk import RiskManager
from live.submit import BundleSender, Sent, expected_net
from live.watch import ChainWatcher, HeadSeen, PendingSeen
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.eip1559 import next_base_fee
from workbench.chain.executor_install import install_executor
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.backtest import git_sha, to_records
from workbench.engine.replay import BlockResult, OpportunityResult, pending_from_row
from workbench.engine.searcher import EXECUTOR_ADDRESS, GAS_MONEY
from workbench.engine.slot import TOP_OF_BLOCK, Slot
from workbench.errors import AnvilError
from workbench.execution.bundle import ExecutionConfig
from workbench.execution.simulate import AnvilSimulator, SimResult
from workbench.market.events import decode_log
from workbench.market.fetch import fetch_pool_state
from workbench.market.graph import CycleIndex, find_cycles
from workbench.market.market_state import MarketState, next_state
from workbench.market.pool import Pool
from workbench.rpc import RpcClient, RpcError, RpcTransportError
from workbench.scoring.competition import find_competitor, judge
from workbench.sources.block_fetch import BlockFetcher, ChainChanged
from workbench.sources.block_view import BlockData, blocks_of
from workbench.sources.ingest import redact_url
from workbench.sources.raw_tx import verified_raw
from workbench.sources.rpc_convert import mempool_row
from workbench.store import ActionKind, LiveActionRecord, RunInfo, RunSpec, open_store
from workbench.strategy.api import Strategy
from workbench.strategy.context import BlockEnv
from workbench.strategy.intents import ArbIntent
from workbench.strategy.models import WinModel

log = logging.getLogger(__name__)

Mode = Literal["shadow", "live"]
FOLLOWER_FAULTS = (RpcError, RpcTransportError, AnvilError)
"""What a failing follower (or the node behind its fork) raises."""
Publish = Callable[[str, Mapping[str, Any]], object]
SWITCH_INTERVAL_S = 0.0005
"""How long another thread may keep the interpreter lock from the runner's loop."""


def execution_config(market: DeployedMarket, chain_id: int, executor: str) -> ExecutionConfig:
    """How our transactions to ``executor`` are built on ``market``'s chain."""
    factory = market.v3_factory or ""
    return ExecutionConfig(
        chain_id=chain_id,
        executor=executor,
        v3_factories={p.lower(): factory for p in market.v3_pools.values()},
    )


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Planned:
    """An intent of the open slot, its simulation and what the runner did with it."""

    intent: ArbIntent
    sim: SimResult
    position: int
    action: LiveActionRecord
    arrived_ns: int = 0  # when the event that led to it arrived (perf_counter_ns)
    sent: Sent | None = None
    approved: bool = False


@dataclass
class OpenSlot:
    slot: Slot
    coinbase: str
    running: dict[str, Pool]
    planned: list[Planned] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # pending hash -> first seen (ms)
    position: int = 0

    @property
    def env(self) -> BlockEnv:
        return self.slot.env


@dataclass(frozen=True)
class Searcher:
    """Who trades: the account that signs and the Executor it owns."""

    account: LocalAccount
    executor: str


@dataclass
class Tally:
    blocks: int = 0
    backfilled: int = 0
    opportunities: int = 0
    submitted: int = 0
    landed: int = 0
    realised_net: int = 0
    expected_net: int = 0


class LiveEngine:
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
        self.publish = publish
        self.poll_seconds = poll_seconds
        self.rpc = RpcClient(rpc_url)
        self.fetcher = BlockFetcher(self.rpc)
        self.tally = Tally()
        self.head = -1  # the last block processed
        self.chain_head = -1  # the highest block the node announced
        self.head_seen_at = time.monotonic()
        self.run_info: RunInfo | None = None
        self.follower: Follower | None = None
        self.started_at = datetime.now(UTC)
        self._open: OpenSlot | None = None
        self._state: MarketState | None = None
        self._index: CycleIndex | None = None
        self._cfg: ExecutionConfig | None = None
        self._sim: AnvilSimulator | None = None
        # our account's transaction count on the follower, between blocks (None: ask)
        self._nonce: int | None = None
        self._own: set[str] = set()
        self._on_block_cb: Callable[[BlockResult], None] | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-store")
        self._writes: list[Future[None]] = []

    # -- set-up ---------------------------------------------------------------------------

    def _start(self, start_block: int | None) -> BlockData:
        head = start_block if start_block is not None else int(self.rpc.call("eth_blockNumber"), 16)
        parent = self._fetch(head)
        chain_id = int(self.rpc.call("eth_chainId"), 16)
        prepare = None
        if self.searcher is None:  # shadow: a throwaway searcher, as in a backtest
            account: LocalAccount = Account.create()  # never printed, never stored
            self.searcher = Searcher(account, EXECUTOR_ADDRESS)

            def prepare(node: AnvilControl) -> None:
                install_executor(
                    node, account.address, self.market.weth, self.capital, EXECUTOR_ADDRESS
                )
                node.set_balance(account.address, GAS_MONEY)

        self.follower = Follower(self.rpc_url, head, prepare=prepare).start()
        node = self.follower.node
        addresses = [*self.market.v2_pairs.values(), *self.market.v3_pools.values()]
        pools = [fetch_pool_state(node.rpc, a) for a in addresses]
        self._state = MarketState(pools, unknown_pools="ignore")
        self._index = CycleIndex.of(find_cycles(pools, self.market.weth))
        self._own = {self.searcher.account.address.lower()}
        cfg = execution_config(self.market, chain_id, self.searcher.executor)
        self._cfg = cfg
        spec = RunSpec(
            strategy=self.strategy_name,
            config=self.config,
            dataset_path=f"live:{redact_url(self.rpc_url)}",
            dataset_chain_id=chain_id,
            first_block=head + 1,
            last_block=head + 1,
            engine={
                "mode": self.mode,
                "session": self.started_at.isoformat(),
                "capital_cap": str(self.risk.limits.capital_cap),
                **({"inclusion": self.inclusion.to_json()} if self.inclusion else {}),  # type: ignore[attr-defined]
            },
            workers=1,
            git_sha=git_sha(),
        )
        with open_store(self.db_url) as store:
            self.run_info = store.start_or_resume_run(spec)
        self.head = head
        self.chain_head = head
        return parent

    def follower_node(self) -> AnvilControl:
        """The follower's current Anvil (token safety checks run on it)."""
        if self.follower is None:
            raise AnvilError("the runner has not started its follower yet")
        return self.follower.node

    def pools(self) -> Mapping[str, Pool]:
        """The pools as of the last block processed (lowercase address -> state)."""
        return {} if self._state is None else self._state.pools

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
            self.ws_url, self.rpc, poll_seconds=self.poll_seconds, on_reconnect=self._reconnected
        )
        await watcher.start()  # before reading the head: nothing announced after it is missed
        stopper = stop or asyncio.Event()
        stop_wait: asyncio.Future[Any] = asyncio.ensure_future(stopper.wait())
        getter: asyncio.Future[Any] | None = None
        try:
            parent = await asyncio.to_thread(self._start, start_block)
            self._on_block_cb = on_block
            for planned in self._open_slot(parent, moved=self._moved(parent)):
                if self.mode == "live" and planned.approved:
                    await self._send(planned, planned.arrived_ns, ())
            while not stopper.is_set() and (until_block is None or self.head < until_block):
                getter = asyncio.ensure_future(watcher.next())
                await asyncio.wait({getter, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    break
                event = getter.result()
                if isinstance(event, HeadSeen):
                    self.chain_head = max(self.chain_head, event.number)
                    await self._catch_up(until_block)
                else:
                    await self._pending(event)
        finally:
            for future in (stop_wait, getter):
                if future is not None:
                    future.cancel()
            try:
                await watcher.stop()
                await asyncio.to_thread(self._finish)
            finally:
                sys.setswitchinterval(switch_interval)
        assert self.run_info is not None
        return self.run_info

    def _finish(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self._writer.shutdown(wait=True)
        self._check_writes()
        if self.run_info is not None:
            with open_store(self.db_url) as store:
                run = store.get_run(self.run_info.id)
                if store.processed_blocks(run):
                    self.run_info = store.finish_run(run)
                else:  # stopped before its first block: nothing to finish
                    self.run_info = store.fail_run(run, "stopped before its first block")

    def _reconnected(self) -> None:
        if self.metrics is not None:
            self.metrics.reconnected()

    async def _catch_up(self, until_block: int | None) -> None:
        """Processes every block after the last one up to the chain head, by number."""
        while self.head < self.chain_head and (until_block is None or self.head < until_block):
            number = self.head + 1
            try:
                block = await asyncio.to_thread(self._fetch, number)
            except (RpcError, RpcTransportError, ChainChanged) as exc:
                log.warning("fetching block %d failed (%s); retrying on the next head", number, exc)
                return
            try:
                planned_next = self._block(block)
            except FOLLOWER_FAULTS as exc:
                log.warning(
                    "block %d: the follower failed (%s); retrying on the next head", number, exc
                )
                return
            if number < self.chain_head:
                self.tally.backfilled += 1
                if self.metrics is not None:
                    self.metrics.backfilled(1)
            for planned in planned_next:
                if self.mode == "live" and planned.approved:
                    await self._send(planned, planned.arrived_ns, ())

    # -- blocks ---------------------------------------------------------------------------

    def _moved(self, block: BlockData) -> frozenset[str]:
        assert self._state is not None
        pools = self._state.pools
        return frozenset(log["address"].lower() for log in block.logs) & frozenset(pools)

    def _block(self, block: BlockData) -> list[Planned]:
        """Closes the slot of ``block`` and opens the next; the next slot's top-of-block
        intents, planned (to send)."""
        started = time.perf_counter()
        assert self.follower is not None and self._state is not None
        slot = self._open
        judged: list[tuple[Planned, Any, Any]] = []
        if slot is not None and slot.env.number == block.number:
            block = dataclasses.replace(
                block,
                first_seen_ms={
                    t["hash"]: slot.seen[t["hash"]]
                    for t in block.transactions
                    if t["hash"] in slot.seen
                },
            )
            for p in slot.planned:
                outcome = judge(p.intent, p.sim, find_competitor(block, p.intent, self.market.weth))
                judged.append((p, outcome, slot.slot.revert_risk(p.intent, p.position)))
        # Everything that needs the follower first: if it fails, nothing has happened yet
        # and the block is processed again at the next head (after a re-fork).
        try:
            fidelity = self.follower.advance(block)
            reverts = [self._simulator().reverts_now(p.intent) for p, _, _ in judged]
            assert self.searcher is not None
            self._nonce = int(
                self.follower.node.rpc.call(
                    "eth_getTransactionCount", [self.searcher.account.address, "latest"]
                ),
                16,
            )
        except FOLLOWER_FAULTS:
            self.follower.broken = self.follower.broken or "failed while mining a block"
            self._nonce = None
            raise
        result = BlockResult(
            block.number, len(block.transactions), len(block.first_seen_ms), fidelity
        )
        actions = []
        mined = {t["hash"].lower() for t in block.transactions}
        for (p, outcome, risk), reverts_next in zip(judged, reverts, strict=True):
            action = self._settle(p, block, mined)
            actions.append(action)
            result.opportunities.append(
                OpportunityResult(
                    block.number,
                    p.intent,
                    p.sim,
                    outcome,
                    parent_fullness_bps=slot.env.parent_fullness_bps if slot else 0,
                    risk=risk,
                    reverts_next_block=reverts_next,
                )
            )
        if self.sender is not None:
            self.sender.settle(block.number, mined)
            # the chain's word on what is used, whatever we missed
            self.sender.nonces.sync(self._nonce, through_block=block.number)
        if slot is not None and slot.env.number == block.number:
            self._record(result, actions)
        self._state.apply_all(block.logs)
        self.head = block.number
        self.head_seen_at = time.monotonic()
        self.tally.blocks += 1
        planned = self._open_slot(block, moved=self._moved(block))
        if self.metrics is not None:
            self.metrics.block(block.number, time.perf_counter() - started)
        if self._on_block_cb is not None:
            self._on_block_cb(result)
        return planned

    def _settle(self, p: Planned, block: BlockData, mined: set[str]) -> LiveActionRecord:
        """The planned intent's action with what happened in its target block."""
        now = _now_ms()
        action = p.action
        if p.sent is not None:
            ours = p.sent.tx.hash.lower()
            landed = ours in mined
            got: Realised | None = None
            if landed:
                receipt = next(r for h, r in block.receipts.items() if h.lower() == ours)
                assert self.searcher is not None
                got = realised(
                    receipt,
                    block.logs_of(receipt["transaction_hash"]),
                    self.market.weth,
                    self.searcher.executor,
                )
                self.tally.landed += 1
                self.tally.realised_net += got.net
            if p.approved:
                self.risk.settle(
                    p.intent.key,
                    got.weth_delta if got else 0,
                    got.gas_cost if got else 0,
                    landed,
                    target_block=block.number,
                    now_ms=now,
                )
            action = dataclasses.replace(
                action,
                landed=landed,
                realised_pnl=got.net if got else 0,
                gas_cost=got.gas_cost if got else 0,
                bid_paid=got.bid_paid if got else 0,
            )
            if self.metrics is not None:
                self.metrics.included(1) if landed else self.metrics.missed(1)
                self.metrics.profit(got.net if got else 0, expected_net(p.sim))
        elif p.approved:
            self.risk.settle(p.intent.key, 0, 0, False, target_block=block.number, now_ms=now)
        if self.publish is not None and p.sent is not None:
            self.publish("reconciled", _action_json(p.intent, action))
        return action

    def _record(self, result: BlockResult, actions: list[LiveActionRecord]) -> None:
        """Stores the block on the writer thread (off the path to the next submission), in
        order; a failed write stops the runner at the next block (``_check_writes``)."""
        block, opportunities = to_records(result)
        opportunities = [
            dataclasses.replace(o, action=a) for o, a in zip(opportunities, actions, strict=True)
        ]

        def write() -> None:
            assert self.run_info is not None
            with open_store(self.db_url) as store:
                if result.number > self.run_info.last_block:
                    self.run_info = store.extend_run(self.run_info, result.number)
                store.record_block(self.run_info, block, opportunities)

        self._check_writes()
        self._writes.append(self._writer.submit(write))

    def _check_writes(self) -> None:
        """Raises the error of a failed store write (nothing may be lost silently)."""
        while self._writes and self._writes[0].done():
            self._writes.pop(0).result()

    def _open_slot(self, parent: BlockData, *, moved: frozenset[str]) -> list[Planned]:
        """Opens the slot for the block after ``parent``; its ``on_block`` intents, planned."""
        assert self._state is not None and self._index is not None
        env = BlockEnv(
            number=parent.number + 1,
            timestamp=parent.timestamp + self.block_time,
            base_fee=next_base_fee(parent.base_fee, parent.gas_used, parent.gas_limit),
            gas_limit=parent.gas_limit,
            parent_gas_used=parent.gas_used,
        )
        pools = self._state.pools
        slot = Slot(
            self.strategy,
            env,
            self.market.weth,
            pools,
            self._index,
            moved,
            inclusion=self.inclusion,
        )
        self._open = OpenSlot(slot, parent.miner, dict(pools))
        if self.mode == "live" and self.sender is not None:
            self.sender.prepare(env.number, self._writer)  # the nonce, off the path to sending
        arrived = time.perf_counter_ns()
        return [
            self._act(intent, TOP_OF_BLOCK, arrived, gas_left=None) for intent in slot.on_block()
        ]

    # -- pending transactions -------------------------------------------------------------

    async def _pending(self, event: PendingSeen) -> None:
        slot = self._open
        if slot is None or self.follower is None:
            return
        tx = event.tx
        tx_hash = str(tx.get("hash", "")).lower()
        if not tx_hash or tx_hash in slot.seen or str(tx.get("from", "")).lower() in self._own:
            return
        slot.seen[tx_hash] = _now_ms()
        raw = verified_raw(tx)
        if raw is None:
            try:
                raw = await asyncio.to_thread(
                    self.rpc.call, "eth_getRawTransactionByHash", [tx_hash]
                )
            except (RpcError, RpcTransportError):
                return
            if not isinstance(raw, str):
                return
        try:
            receipt = self.follower.apply_pending(raw, slot.env)
        except FOLLOWER_FAULTS as exc:
            log.warning("pending %s: the follower failed (%s)", tx_hash, exc)
            return
        if receipt is None:
            slot.seen.pop(tx_hash)  # not pending any more (mined, or replaced)
            return
        slot.position += 1
        moved = set()
        for entry in receipt.logs:
            address = entry["address"].lower()
            if address not in slot.running:
                continue
            decoded = decode_log(entry)
            if decoded is not None:
                slot.running[address] = next_state(slot.running[address], decoded)  # type: ignore[arg-type]
                moved.add(address)
        if not moved:
            return
        row = mempool_row(
            tx, tx_hash=tx_hash, first_seen_ms=slot.seen[tx_hash], source="live", raw=raw
        )
        pending = pending_from_row(row, slot.seen[tx_hash])
        gas_left = slot.env.gas_limit - self.follower.pending_gas
        for intent in slot.slot.on_pending(slot.position, pending, frozenset(moved), slot.running):
            await self._act_async(intent, slot.position, event.arrived_ns, (raw,), gas_left)

    # -- acting on an intent --------------------------------------------------------------

    def _act(
        self,
        intent: ArbIntent,
        position: int,
        arrived_ns: int,
        *,
        gas_left: int | None,
    ) -> Planned:
        """Simulates and risk-checks ``intent``; the planned entry (not yet sent)."""
        slot = self._open
        assert slot is not None
        started = time.perf_counter()
        try:
            sim = self._simulator().simulate(
                intent, slot.env, slot.coinbase, (), gas_left, nonce=self._nonce
            )
        except (RpcTransportError, AnvilError) as exc:
            sim = SimResult(status="error", revert_reason=f"the follower failed: {exc}")
            assert self.follower is not None
            self.follower.broken = str(exc)
        if self.metrics is not None:
            self.metrics.simulated(time.perf_counter() - started)
            self.metrics.detected(intent.strategy)
        self.tally.opportunities += 1
        target = slot.env.number
        action = LiveActionRecord(
            mode=self.mode,
            action=ActionKind.SKIPPED,
            target_block=target,
            decided_at_ms=_now_ms(),
            latency_ms=(time.perf_counter_ns() - arrived_ns) / 1e6,
            expected_pnl=expected_net(sim) if sim.status == "success" else None,
        )
        planned = Planned(intent, sim, position, action, arrived_ns=arrived_ns)
        slot.planned.append(planned)
        if sim.status != "success":
            planned.action = dataclasses.replace(
                action, reason="simulation", detail=f"{sim.status}: {sim.revert_reason}"
            )
            return planned
        max_fee = 2 * slot.env.base_fee + intent.priority_fee
        decision = self.risk.approve(
            intent, _now_ms(), target_block=target, max_fee_per_gas=max_fee, gas_limit=sim.gas_limit
        )
        if not decision.approved:
            planned.action = dataclasses.replace(
                action,
                action=ActionKind.REJECTED,
                reason=str(decision.reason),
                detail=decision.detail,
            )
            if self.metrics is not None:
                self.metrics.rejected(str(decision.reason))
            return planned
        planned.approved = True
        planned.action = dataclasses.replace(action, action=ActionKind.APPROVED)
        if self.metrics is not None:
            self.metrics.at_risk(self.risk.reserved)
        if self.mode == "shadow" and self.publish is not None:
            self.publish("decision", _action_json(intent, planned.action))
        return planned

    async def _act_async(
        self,
        intent: ArbIntent,
        position: int,
        arrived_ns: int,
        before: tuple[str, ...],
        gas_left: int | None,
    ) -> None:
        planned = self._act(intent, position, arrived_ns, gas_left=gas_left)
        if self.mode == "live" and planned.approved:
            await self._send(planned, arrived_ns, before)

    async def _send(self, planned: Planned, arrived_ns: int, before: tuple[str, ...]) -> None:
        slot = self._open
        assert slot is not None and self.sender is not None
        target = slot.env.number
        net = expected_net(planned.sim)
        skip = None
        if target <= self.chain_head:
            skip = ("late", f"block {target} is already mined")
        elif not self.sender.better_than_in_flight(target, net):
            skip = ("better_in_flight", f"a bundle expecting more is in flight for block {target}")
        if skip is not None:
            reason, detail = skip
            planned.action = dataclasses.replace(
                planned.action, action=ActionKind.SKIPPED, reason=reason, detail=detail
            )
            return
        tx, uuid_ = self.sender.sign(planned.intent, planned.sim, slot.env, target)
        sent = await asyncio.to_thread(
            self.sender.send, planned.intent, planned.sim, tx, uuid_, target, before
        )
        latency_ms = (sent.started_ns - arrived_ns) / 1e6  # arrival to the bundle's submission
        planned.sent = sent
        self.tally.submitted += 1
        self.tally.expected_net += net
        planned.action = dataclasses.replace(
            planned.action,
            action=ActionKind.SUBMITTED,
            latency_ms=latency_ms,
            tx_hash=tx.hash,
            nonce=tx.nonce,
            bundle_hash=sent.bundle.hash,
            relays=tuple(
                {
                    "relay": s.relay,
                    "status": s.status,
                    "attempts": s.attempts,
                    "latency_ms": round(s.latency_ms, 3),
                    "error": s.error,
                }
                for s in sent.submissions
            ),
        )
        if self.metrics is not None:
            for s in sent.submissions:
                if s.ok:
                    self.metrics.submitted(s.relay, latency_ms / 1000)
                elif s.status != "duplicate":
                    self.metrics.relay_error(s.relay)
        if self.publish is not None:
            self.publish("decision", _action_json(planned.intent, planned.action))

    # -- status ---------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        t = self.tally
        return {
            "mode": self.mode,
            "strategy": self.strategy_name,
            "run_id": self.run_info.id if self.run_info else None,
            "head": self.head,
            "chain_head": self.chain_head,
            "head_age_s": round(time.monotonic() - self.head_seen_at, 3),
            "blocks": t.blocks,
            "backfilled": t.backfilled,
            "reforks": self.follower.reforks if self.follower else 0,
            "opportunities": t.opportunities,
            "submitted": t.submitted,
            "landed": t.landed,
            "realised_net_wei": t.realised_net,
            "expected_net_wei": t.expected_net,
            "capital_at_risk_wei": self.risk.reserved,
            "capital_cap_wei": self.risk.limits.capital_cap,
            "rejected": dict(self.risk.rejected),
        }

    def health(self, max_head_age_s: float) -> tuple[bool, dict[str, Any]]:
        age = time.monotonic() - self.head_seen_at
        ok = age <= max_head_age_s and not self.risk.kill_switch_on()
        why = (
            None
            if ok
            else (
                "kill switch on" if self.risk.kill_switch_on() else f"no new block for {age:.0f} s"
            )
        )
        return ok, {"ok": ok, "reason": why, "head": self.head, "head_age_s": round(age, 3)}


def _action_json(intent: ArbIntent, action: LiveActionRecord) -> dict[str, Any]:
    return {
        "key": intent.key,
        "strategy": intent.strategy,
        "target_block": action.target_block,
        "action": str(action.action),
        "reason": action.reason,
        "expected_pnl_wei": action.expected_pnl,
        "latency_ms": action.latency_ms,
        "tx_hash": action.tx_hash,
        "landed": action.landed,
        "realised_pnl_wei": action.realised_pnl,
    }
