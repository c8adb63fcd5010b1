"""backrun_arb: a pending swap moves pools; arbitrage them back right after it lands.
The bundle is [their transaction, ours]."""

from __future__ import annotations

from typing import ClassVar

from workbench.strategy.api import register
from workbench.strategy.builtin.arb_screen import ArbConfig, screen
from workbench.strategy.context import PendingTx, StrategyContext
from workbench.strategy.intents import Intent


class BackrunArbConfig(ArbConfig):
    """Config of ``backrun_arb`` (see ArbConfig)."""


@register(BackrunArbConfig)
class BackrunArb:
    name: ClassVar[str] = "backrun_arb"

    def __init__(self, config: BackrunArbConfig) -> None:
        self.config = config

    def on_block(self, ctx: StrategyContext) -> list[Intent]:
        return []

    def on_pending(self, ctx: StrategyContext, tx: PendingTx) -> list[Intent]:
        if not ctx.touched:
            return []  # the pending transaction moves no pool we know
        cycles = ctx.cycles.touching(ctx.touched)
        return list(screen(ctx, cycles, self.config, self.name, after_tx=tx.hash))
