"""A V3 pool's state moved by its logs, as the pool does it: ``Initialize`` and ``Swap`` set
the price and tick (``Swap`` the liquidity too); ``Mint``/``Burn`` update the two ticks and
the in-range liquidity exactly as UniswapV3Pool._modifyPosition and Tick.update do."""

from __future__ import annotations

from workbench.errors import MarketError
from workbench.market.events import PoolEvent
from workbench.market.uniswap_v3.events import V3Burn, V3Initialize, V3Mint, V3Swap
from workbench.market.uniswap_v3.state import UniswapV3State
from workbench.market.uniswap_v3.ticks import TickInfo

_MAX_UINT128 = 2**128


def apply_event(state: UniswapV3State, event: PoolEvent) -> UniswapV3State | None:
    """The pool's state after ``event``; None when it is not a V3 pool event."""
    if isinstance(event, V3Swap):
        return state.with_price(event.sqrt_price_x96, event.tick, event.liquidity)
    if isinstance(event, V3Initialize):
        return state.with_price(event.sqrt_price_x96, event.tick, state.liquidity)
    if isinstance(event, V3Mint):
        return modify_position(state, event.tick_lower, event.tick_upper, event.amount)
    if isinstance(event, V3Burn):
        return modify_position(state, event.tick_lower, event.tick_upper, -event.amount)
    return None


def modify_position(
    state: UniswapV3State, tick_lower: int, tick_upper: int, delta: int
) -> UniswapV3State:
    """Adds ``delta`` liquidity over [tick_lower, tick_upper) (a burn when negative)."""
    if delta == 0:  # burn(0) pokes a position's fees and leaves the ticks alone
        return state
    if tick_lower >= tick_upper:
        raise MarketError(f"tick range [{tick_lower}, {tick_upper}) is empty")
    ticks = dict(state.ticks)
    _update_tick(ticks, tick_lower, delta, upper=False, pool=state.address)
    _update_tick(ticks, tick_upper, delta, upper=True, pool=state.address)
    liquidity = state.liquidity
    if tick_lower <= state.tick < tick_upper:
        liquidity += delta
        if liquidity < 0:
            raise MarketError(
                f"pool {state.address}: burning {-delta} leaves negative in-range liquidity; "
                "the state was not complete when logs began to be applied"
            )
    return state.with_ticks(ticks, liquidity)


def _update_tick(
    ticks: dict[int, TickInfo], tick: int, delta: int, *, upper: bool, pool: str
) -> None:
    """Tick.update: gross += delta; net += delta at a lower tick, -= at an upper one; a tick
    whose gross returns to 0 is cleared (uninitialized)."""
    info = ticks.get(tick, TickInfo(0, 0))
    gross = info.liquidity_gross + delta
    if not 0 <= gross < _MAX_UINT128:
        raise MarketError(
            f"pool {pool}: tick {tick} would hold gross liquidity {gross}; "
            "the state was not complete when logs began to be applied"
        )
    if gross == 0:
        ticks.pop(tick, None)
    else:
        net = info.liquidity_net - delta if upper else info.liquidity_net + delta
        ticks[tick] = TickInfo(gross, net)
