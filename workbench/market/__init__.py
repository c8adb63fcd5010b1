"""Market model: frozen pool states and exact integer AMM math, state from logs, cycles."""

from __future__ import annotations

from workbench.market.balancer import BalancerWeightedPool
from workbench.market.curve import CurveStableSwapPool
from workbench.market.graph import Cycle, CycleIndex, Hop, find_cycles
from workbench.market.pool import Pool, Swap
from workbench.market.sizing import SizedOpportunity, optimal_input, simulate
from workbench.market.solidly import SolidlyPool
from workbench.market.uniswap_v2 import UniswapV2Pool, get_amount_in, get_amount_out
from workbench.market.v3.state import TickInfo, UniswapV3State

__all__ = [
    "BalancerWeightedPool",
    "CurveStableSwapPool",
    "Cycle",
    "CycleIndex",
    "Hop",
    "Pool",
    "SizedOpportunity",
    "SolidlyPool",
    "Swap",
    "TickInfo",
    "UniswapV2Pool",
    "UniswapV3State",
    "find_cycles",
    "get_amount_in",
    "get_amount_out",
    "optimal_input",
    "simulate",
]
