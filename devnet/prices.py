"""Exogenous reference prices: a geometric Brownian motion per price factor, kept in ticks.

A token's reference is its log price in WETH, in Uniswap ticks (price = 1.0001**tick WETH wei
per base unit): a Brownian motion in ticks is a GBM in price. Each block every factor moves by
round(sigma * Z), Z the Irwin-Hall sum of 12 uniforms minus 6 (mean 0, variance 1), which is
exact in IEEE arithmetic; prices then come from ticks through the exact integer TickMath, so
every machine draws the same path.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from devnet.keys import stream
from devnet.spec import FACTOR, SYMBOLS, VOL_TICKS, initial_tick
from workbench.market.uniswap_v3.tick_math import get_sqrt_ratio_at_tick

_Q192 = 1 << 192


def standard_draw(rng: random.Random) -> float:
    """An approximately standard normal draw, exact in IEEE arithmetic (Irwin-Hall, n = 12)."""
    return sum(rng.random() for _ in range(12)) - 6.0


@dataclass(frozen=True, slots=True)
class ReferencePrices:
    """Reference log prices: ``ticks[s]`` = log_1.0001(WETH wei per base unit of ``s``)."""

    ticks: Mapping[str, int]

    @classmethod
    def initial(cls) -> ReferencePrices:
        return cls({s: 0 if s == "WETH" else initial_tick(s, "WETH") for s in SYMBOLS})

    def step(self, rng: random.Random) -> ReferencePrices:
        """The prices one block later."""
        moves = {f: round(v * standard_draw(rng)) for f, v in sorted(VOL_TICKS.items())}
        return ReferencePrices(
            {s: t + moves.get(FACTOR.get(s, s), 0) for s, t in self.ticks.items()}
        )

    def pair_tick(self, a: str, b: str) -> int:
        """Tick of the reference price of ``b`` per ``a`` (base units)."""
        return self.ticks[a] - self.ticks[b]

    def convert(self, amount: int, a: str, b: str) -> int:
        """``amount`` of ``a`` expressed in ``b`` at the reference price (floor)."""
        sqrt_price = get_sqrt_ratio_at_tick(self.pair_tick(a, b))
        return amount * sqrt_price * sqrt_price // _Q192

    def usd_to_units(self, symbol: str, usd_cents: int) -> int:
        """``usd_cents`` of dollars as base units of ``symbol`` (the dollar is USDC's process)."""
        return self.convert(usd_cents * 10**4, "USDC", symbol)


def reference_path(seed: int, blocks: int) -> list[ReferencePrices]:
    """Prices for slots 0..blocks (slot 0 is the genesis price), one stream per seed."""
    rng = stream(seed, "reference")
    path = [ReferencePrices.initial()]
    for _ in range(blocks):
        path.append(path[-1].step(rng))
    return path
