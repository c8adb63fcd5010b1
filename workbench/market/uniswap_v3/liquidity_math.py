"""LiquidityMath.addDelta: uint128 liquidity plus a signed delta, reverting like the contract."""

from __future__ import annotations

from workbench.errors import MarketError

MAX_UINT128 = 2**128 - 1


def add_delta(x: int, y: int) -> int:
    z = x + y
    if y < 0 and z < 0:
        raise MarketError("liquidity would go below zero ('LS')")
    if z > MAX_UINT128:
        raise MarketError("liquidity would overflow uint128 ('LA')")
    return z
