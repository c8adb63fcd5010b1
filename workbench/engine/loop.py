"""The one block loop of backtests and the live runner: contexts -> strategy -> executor ->
judge -> results, the same code with a historical clock (recorded blocks) or a live one (a
node's subscriptions). What differs plugs in: the driver that feeds it events (``Replay``,
``live.engine.LiveEngine``) and the ``Executor`` (simulated, shadow, relay).

For each block: ``open`` the slot on the parent's pools, ``top_of_block``, then ``pending``
for each public transaction that moved known pools (with the pools right after it), and
``close`` with the block as mined: each attempt is judged against the competition in it, its
revert risk predicted from the later public transactions and realised on the state after it,
and settled by its executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from workbench.engine.executor import Attempt, Executor, Placement, SlotEnv
from workbench.engine.fidelity import Fidelity
from workbench.engine.slot import TOP_OF_BLOCK, Slot
from workbench.execution.simulate import SimResult
from workbench.execution.slippage import RevertRisk
from workbench.market.graph import CycleIndex
from workbench.market.pool import Pool
from workbench.scoring.competition import Outcome, find_competitor, judge
from workbench.sources.block_view import BlockData
from workbench.store import LiveActionRecord
from workbench.strategy.api import Strategy
from workbench.strategy.context import BlockEnv, PendingTx
from workbench.strategy.intents import ArbIntent
from workbench.strategy.models import WinModel

T = TypeVar("T")


def run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs a driver's coroutine to its result from synchronous code, also where an event
    loop already runs in this thread (a Jupyter kernel): then on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="block-loop") as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True, slots=True)
class OpportunityResult:
    block: int
    intent: ArbIntent
    sim: SimResult
    outcome: Outcome
    parent_fullness_bps: int
    risk: RevertRisk  # predicted from the following pending transactions
    reverts_next_block: bool  # realised: its transaction reverts on the block's end state
    action: LiveActionRecord | None = None  # shadow and live runs: what was done with it


@dataclass
class BlockResult:
    number: int
    tx_count: int
    public_txs: int
    fidelity: Fidelity
    opportunities: list[OpportunityResult] = field(default_factory=list)


@dataclass
class OpenSlot:
    """A block's slot: the strategy's view, where its bundles go, what was attempted in it."""

    slot: Slot
    where: SlotEnv
    attempts: list[Attempt] = field(default_factory=list)


class BlockLoop:
    """One strategy against blocks fed by a driver (see the module docstring)."""

    def __init__(
        self,
        strategy: Strategy,
        executor: Executor,
        *,
        base_token: str,
        cycles: CycleIndex,
        inclusion: WinModel | None = None,
    ) -> None:
        self.strategy = strategy
        self.executor = executor
        self.base_token = base_token
        self.cycles = cycles
        self.inclusion = inclusion
        self._open: OpenSlot | None = None
        self.last_closed: OpenSlot | None = None  # the slot the last ``close`` settled, if any

    @property
    def env(self) -> BlockEnv | None:
        """The open slot's block environment (None between blocks)."""
        return None if self._open is None else self._open.where.env

    @property
    def attempts(self) -> list[Attempt]:
        return [] if self._open is None else self._open.attempts

    def open(
        self, env: BlockEnv, coinbase: str, pools: Mapping[str, Pool], touched: frozenset[str]
    ) -> None:
        """Starts block ``env.number`` on ``pools`` as of its parent, which moved ``touched``."""
        slot = Slot(
            self.strategy,
            env,
            self.base_token,
            pools,
            self.cycles,
            touched,
            inclusion=self.inclusion,
        )
        self._open = OpenSlot(slot, SlotEnv(env, coinbase))

    def suspend(self) -> OpenSlot | None:
        """Takes the open slot out (a live runner walking back through a reorg), unsettled."""
        open_, self._open = self._open, None
        return open_

    def resume(self, open_: OpenSlot) -> None:
        """Makes ``open_`` (a suspended or closed slot) the open one again, to be closed
        against the block its target number now holds."""
        self._open = open_

    async def top_of_block(self, arrived_ns: int = 0) -> list[Attempt]:
        """The strategy's ``on_block`` intents, executed at the top of the block."""
        assert self._open is not None, "open() a slot first"
        placement = Placement(TOP_OF_BLOCK, arrived_ns=arrived_ns)
        return [await self._execute(i, placement) for i in self._open.slot.on_block()]

    async def pending(
        self,
        tx: PendingTx,
        placement: Placement,
        moved: frozenset[str],
        pools: Mapping[str, Pool],
    ) -> list[Attempt]:
        """The strategy's intents for the public ``tx`` (at ``placement.position``), which
        moved ``moved`` and left the pools at ``pools``; each executed right after it."""
        assert self._open is not None, "open() a slot first"
        intents = self._open.slot.on_pending(placement.position, tx, moved, pools)
        return [await self._execute(i, placement) for i in intents]

    async def _execute(self, intent: ArbIntent, placement: Placement) -> Attempt:
        assert self._open is not None
        attempt = await self.executor.execute(intent, self._open.where, placement)
        self._open.attempts.append(attempt)
        return attempt

    def close(self, block: BlockData, fidelity: Fidelity) -> BlockResult:
        """Ends the open slot with ``block`` as mined (its state now on the executor's node):
        every attempt judged, its revert risk predicted and realised, and settled. The
        realised checks come first: if the node fails there, the slot stays open and nothing
        was settled, so the block can be closed again."""
        result = BlockResult(
            block.number, len(block.transactions), len(block.first_seen_ms), fidelity
        )
        open_ = self._open
        self.last_closed = None
        if open_ is None or open_.where.env.number != block.number:
            self._open = None
            return result  # no slot was open for this block (a start or a re-fork)
        reverts = [self.executor.reverts_now(a.intent) for a in open_.attempts]
        self._open = None
        self.last_closed = open_
        self.executor.settle(open_.attempts, block)
        env = open_.where.env
        for a, reverts_next in zip(open_.attempts, reverts, strict=True):
            result.opportunities.append(
                OpportunityResult(
                    block.number,
                    a.intent,
                    a.sim,
                    judge(a.intent, a.sim, find_competitor(block, a.intent, self.base_token)),
                    parent_fullness_bps=env.parent_fullness_bps,
                    risk=open_.slot.revert_risk(a.intent, a.placement.position),
                    reverts_next_block=reverts_next,
                    action=a.action,
                )
            )
        return result
