"""One block being built, as the strategy sees it: shared by the backtest and the live runner
so that both ask the strategy the same questions with the same contexts.

A ``Slot`` starts from the parent block (pools, touched pools, block environment). The engine
then feeds it, in order, each public pending transaction that moved known pools with the pools
right after it; the slot keeps those states as the scenarios that may land after an intent
(its revert risk). The backtest feeds it a recorded block's public transactions; the live
runner the node's pending transactions as they arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from workbench.execution.slippage import RevertRisk, revert_risk
from workbench.market.graph import CycleIndex
from workbench.market.pool import Pool
from workbench.strategy.api import Strategy
from workbench.strategy.context import BlockEnv, PendingTx, StrategyContext
from workbench.strategy.intents import ArbIntent
from workbench.strategy.models import WinModel

TOP_OF_BLOCK = -1
"""The position of an ``on_block`` intent (before every pending transaction)."""


@dataclass
class Slot:
    strategy: Strategy
    env: BlockEnv
    base_token: str
    parent: Mapping[str, Pool]  # pools as of the parent block (lowercase address -> state)
    cycles: CycleIndex
    touched: frozenset[str]  # pools the parent block moved
    inclusion: WinModel | None = None
    # (position, pools it moved, pools right after it) of each public tx that moved pools
    after_public: list[tuple[int, frozenset[str], dict[str, Pool]]] = field(default_factory=list)

    def _context(
        self, pools: Mapping[str, Pool], touched: frozenset[str], pending: PendingTx | None
    ) -> StrategyContext:
        return StrategyContext(
            block=self.env,
            base_token=self.base_token,
            pools=pools,
            cycles=self.cycles,
            touched=touched,
            pending=pending,
            seed=self.env.number,
            inclusion=self.inclusion,
        )

    def on_block(self) -> list[ArbIntent]:
        return self.strategy.on_block(self._context(self.parent, self.touched, None))

    def on_pending(
        self, position: int, tx: PendingTx, moved: frozenset[str], pools: Mapping[str, Pool]
    ) -> list[ArbIntent]:
        """The strategy's intents for ``tx`` (at ``position``, increasing within the slot),
        which moved ``moved`` and left the pools at ``pools``."""
        after = dict(pools)
        self.after_public.append((position, moved, after))
        return self.strategy.on_pending(self._context(after, moved, tx), tx)

    def revert_risk(self, intent: ArbIntent, position: int) -> RevertRisk:
        """The intent's predicted revert risk over the public txs after ``position`` that
        touch its route."""
        route = {p.address.lower() for p in intent.cycle.pools}
        scenarios = [
            pools for at, moved, pools in self.after_public if at > position and moved & route
        ]
        return revert_risk(intent, scenarios)
