"""Revert risk: how likely an intent's opportunity is gone or smaller by the time it lands.

The intent's fixed trade (its ``amount_in``, ``min_profit`` and per-hop minimums) is priced
with exact math in each scenario of what may land before it: the pools after each following
pending transaction of the mempool snapshot that touches its route, in the order a builder
would include them. The predicted revert probability is the share of those scenarios in which
the Executor's checks would fail (so the bundle reverts instead of losing money); with no such
scenario nothing pending can move its pools and the prediction is 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workbench.errors import MarketError
from workbench.market.pool import Pool
from workbench.market.sizing import hop_outputs
from workbench.strategy.intents import ArbIntent


@dataclass(frozen=True, slots=True)
class RevertRisk:
    scenarios: int
    reverts: int  # the Executor's minProfit or a hop minimum would fail
    gone: int  # no profit left at all

    @property
    def p_revert(self) -> float:
        return self.reverts / self.scenarios if self.scenarios else 0.0


def would_revert(intent: ArbIntent, pools: Mapping[str, Pool]) -> tuple[bool, bool]:
    """(reverts, gone) for the intent's trade on ``pools`` (lowercase address -> state)."""
    cycle = intent.cycle.with_pools(pools)
    try:
        outs = hop_outputs(cycle, intent.amount_in)
    except MarketError:
        return True, True
    profit = outs[-1] - intent.amount_in
    short = any(o < m for o, m in zip(outs, intent.hop_min_outs, strict=False))
    return short or profit < intent.min_profit, profit <= 0


def revert_risk(intent: ArbIntent, scenarios: Sequence[Mapping[str, Pool]]) -> RevertRisk:
    """The intent's risk over the pool states that may precede it (see the module doc)."""
    reverts = gone = 0
    for pools in scenarios:
        r, g = would_revert(intent, pools)
        reverts += r
        gone += g
    return RevertRisk(len(scenarios), reverts, gone)
