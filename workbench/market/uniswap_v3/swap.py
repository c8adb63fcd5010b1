"""UniswapV3Pool.swap's loop, exactly: steps bounded by the tick-bitmap walk (initialized
ticks and 256-tick word edges), liquidity crossing, and the price limit. Fee growth, oracle
and protocol fee bookkeeping are left out: they never change the swapped amounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from workbench.errors import MarketError
from workbench.market.uniswap_v3.liquidity_math import add_delta
from workbench.market.uniswap_v3.swap_math import compute_swap_step
from workbench.market.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from workbench.market.uniswap_v3.ticks import TickIndex, TickInfo

MAX_INT256 = 2**255 - 1


class SwapPool(Protocol):
    """What the swap loop reads of a pool (``state.UniswapV3State`` is one): its price, tick,
    in-range liquidity, fee, spacing and initialized ticks with their index."""

    @property
    def sqrt_price_x96(self) -> int: ...
    @property
    def tick(self) -> int: ...
    @property
    def liquidity(self) -> int: ...
    @property
    def fee(self) -> int: ...
    @property
    def tick_spacing(self) -> int: ...
    @property
    def ticks(self) -> Mapping[int, TickInfo]: ...
    @property
    def index(self) -> TickIndex | None: ...


@dataclass(frozen=True, slots=True)
class SwapOutcome:
    """The pool's (amount0, amount1) deltas (positive = paid in) and its state afterwards."""

    amount0: int
    amount1: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    ticks_crossed: int


def default_limit(zero_for_one: bool) -> int:
    """The price limit the Quoter and SwapRouter use when given 0."""
    return MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1


def swap(
    pool: SwapPool,
    zero_for_one: bool,
    amount_specified: int,
    sqrt_price_limit_x96: int | None = None,
) -> SwapOutcome:
    """Runs the pool's swap: ``amount_specified`` > 0 is exact input, < 0 exact output."""
    if amount_specified == 0:
        raise MarketError("amount must not be zero (the pool reverts with 'AS')")
    if not -MAX_INT256 - 1 <= amount_specified <= MAX_INT256:
        raise MarketError("amount exceeds int256, the range of the pool's amountSpecified")
    limit = default_limit(zero_for_one) if sqrt_price_limit_x96 is None else sqrt_price_limit_x96
    price = pool.sqrt_price_x96
    if zero_for_one:
        if not MIN_SQRT_RATIO < limit < price:
            raise MarketError(
                f"price limit {limit} must be below the price {price} and above MIN_SQRT_RATIO ('SPL')"
            )
    elif not price < limit < MAX_SQRT_RATIO:
        raise MarketError(
            f"price limit {limit} must be above the price {price} and below MAX_SQRT_RATIO ('SPL')"
        )

    exact_in = amount_specified > 0
    remaining = amount_specified
    calculated = 0
    tick = pool.tick
    liquidity = pool.liquidity
    fee = pool.fee
    spacing = pool.tick_spacing
    ticks = pool.ticks
    index = pool.index
    assert index is not None
    crossed = 0
    while remaining != 0 and price != limit:
        start = price
        tick_next, initialized = index.next_initialized_within_one_word(tick, spacing, zero_for_one)
        if tick_next < MIN_TICK:
            tick_next = MIN_TICK
        elif tick_next > MAX_TICK:
            tick_next = MAX_TICK
        price_next = get_sqrt_ratio_at_tick(tick_next)
        target = (
            limit if (price_next < limit if zero_for_one else price_next > limit) else price_next
        )
        price, amount_in, amount_out, fee_amount = compute_swap_step(
            price, target, liquidity, remaining, fee
        )
        if exact_in:
            remaining -= amount_in + fee_amount
            calculated -= amount_out
        else:
            remaining += amount_out
            calculated += amount_in + fee_amount
        if price == price_next:
            if initialized:
                net = ticks[tick_next].liquidity_net
                liquidity = add_delta(liquidity, -net if zero_for_one else net)
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif price != start:
            tick = get_tick_at_sqrt_ratio(price)

    filled = amount_specified - remaining
    if zero_for_one == exact_in:
        amount0, amount1 = filled, calculated
    else:
        amount0, amount1 = calculated, filled
    return SwapOutcome(amount0, amount1, price, tick, liquidity, crossed)
