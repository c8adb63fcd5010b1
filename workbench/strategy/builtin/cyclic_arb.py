"""cyclic_arb: each block, every 2- and 3-hop cycle through the base token whose pools moved,
sized optimally, kept when it pays for gas and the bid."""

from __future__ import annotations

from typing import ClassVar

from workbench.strategy.api import register
from workbench.strategy.builtin.arb_screen import ArbConfig, screen
from workbench.strategy.context import PendingTx, StrategyContext
from workbench.strategy.intents import Intent


class CyclicArbConfig(ArbConfig):
    """Config of ``cyclic_arb`` (see ArbConfig)."""


@register(CyclicArbConfig)
class CyclicArb:
    name: ClassVar[str] = "cyclic_arb"

    def __init__(self, config: CyclicArbConfig) -> None:
        self.config = config

    def on_block(self, ctx: StrategyContext) -> list[Intent]:
        cycles = ctx.cycles.touching(ctx.touched or ctx.cycles.by_pool)
        return list(screen(ctx, cycles, self.config, self.name))

    def on_pending(self, ctx: StrategyContext, tx: PendingTx) -> list[Intent]:
        return []
