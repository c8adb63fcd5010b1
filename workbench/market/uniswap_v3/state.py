"""Uniswap V3 pool state: price, tick, in-range liquidity and the initialized ticks.

Only what swaps read is kept (fee growth and oracle data do not change swap amounts).
``ticks`` maps every initialized tick to its gross and net liquidity; the sorted tick list,
from which the tick-bitmap walk is answered (``ticks.TickIndex``), is built once per tick set
and shared by every state that a swap derives (swaps move the price, never the ticks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from workbench.errors import MarketError
from workbench.market.pool import Swap, check_amount, zero_for_one
from workbench.market.uniswap_v3.swap import swap
from workbench.market.uniswap_v3.tick_math import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK
from workbench.market.uniswap_v3.ticks import TickIndex, TickInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class UniswapV3State:
    """The swap-relevant state of a V3 pool (``fee`` in pips: 500 = 0.05%)."""

    address: str
    token0: str
    token1: str
    fee: int
    tick_spacing: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    ticks: Mapping[int, TickInfo] = field(default_factory=lambda: MappingProxyType({}))
    index: TickIndex | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.index is not None:
            return  # derived by with_price from a validated state
        if self.tick_spacing <= 0:
            raise MarketError(f"tick_spacing must be positive, got {self.tick_spacing}")
        if not 0 <= self.fee < 1_000_000:
            raise MarketError(f"fee must be in pips (0 <= fee < 1_000_000), got {self.fee}")
        if not MIN_SQRT_RATIO <= self.sqrt_price_x96 <= MAX_SQRT_RATIO:
            raise MarketError(
                f"sqrt_price_x96 {self.sqrt_price_x96} outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO]"
            )
        if not MIN_TICK <= self.tick <= MAX_TICK:
            raise MarketError(f"tick {self.tick} outside [{MIN_TICK}, {MAX_TICK}]")
        if self.liquidity < 0 or self.liquidity >= 2**128:
            raise MarketError(f"liquidity must be a uint128, got {self.liquidity}")
        if not isinstance(self.ticks, MappingProxyType):
            object.__setattr__(self, "ticks", MappingProxyType(dict(self.ticks)))
        for t in self.ticks:
            if t % self.tick_spacing:
                raise MarketError(f"tick {t} is not a multiple of tick_spacing {self.tick_spacing}")
        object.__setattr__(self, "index", TickIndex.of(self.ticks))

    @property
    def tokens(self) -> tuple[str, str]:
        return (self.token0, self.token1)

    def with_price(self, sqrt_price_x96: int, tick: int, liquidity: int) -> UniswapV3State:
        """The state after a swap: same ticks (and tick index), new price and liquidity.
        Passing the index on marks it as derived from a validated state: no re-validation,
        which would make every quote O(ticks)."""
        return UniswapV3State(
            address=self.address,
            token0=self.token0,
            token1=self.token1,
            fee=self.fee,
            tick_spacing=self.tick_spacing,
            sqrt_price_x96=sqrt_price_x96,
            tick=tick,
            liquidity=liquidity,
            ticks=self.ticks,
            index=self.index,
        )

    def with_ticks(self, ticks: Mapping[int, TickInfo], liquidity: int) -> UniswapV3State:
        """The state after a mint or burn: new tick set (index rebuilt), same price."""
        return replace(self, ticks=MappingProxyType(dict(ticks)), liquidity=liquidity, index=None)

    def amount_out(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> int:
        """Just the output of ``swap_exact_in`` (no next state): the screening fast path."""
        check_amount(amount_in, "amount_in")
        zfo = zero_for_one(self.token0, self.token1, token_in)
        out = swap(self, zfo, amount_in, sqrt_price_limit_x96)
        return -out.amount1 if zfo else -out.amount0

    def swap_exact_in(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        """Sells ``amount_in``; ``partial`` when the price limit (or the end of liquidity) came
        first, and then ``amount_in`` is what the pool actually took."""
        check_amount(amount_in, "amount_in")
        zfo = zero_for_one(self.token0, self.token1, token_in)
        out = swap(self, zfo, amount_in, sqrt_price_limit_x96)
        taken, given = (out.amount0, -out.amount1) if zfo else (out.amount1, -out.amount0)
        after = self.with_price(out.sqrt_price_x96, out.tick, out.liquidity)
        return Swap(taken, given, after, partial=taken != amount_in)

    def swap_exact_out(
        self, token_in: str, amount_out: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        """Buys ``amount_out`` of the other token; ``partial`` when it could not all be bought."""
        check_amount(amount_out, "amount_out")
        zfo = zero_for_one(self.token0, self.token1, token_in)
        out = swap(self, zfo, -amount_out, sqrt_price_limit_x96)
        paid, got = (out.amount0, -out.amount1) if zfo else (out.amount1, -out.amount0)
        after = self.with_price(out.sqrt_price_x96, out.tick, out.liquidity)
        return Swap(paid, got, after, partial=got != amount_out)
