"""Curve StableSwap plain pools: the pool's math (``pool``) and the venue (``venue``)."""

from __future__ import annotations

from workbench.market.curve.pool import CurveStableSwapPool, get_D, get_y
from workbench.market.curve.venue import CURVE_STABLESWAP
from workbench.market.venue import register

register(CURVE_STABLESWAP)

__all__ = ["CURVE_STABLESWAP", "CurveStableSwapPool", "get_D", "get_y"]
