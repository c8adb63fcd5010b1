"""Market model: one folder per venue (frozen pool states and exact integer AMM math, their
logs, reading them from a node, the Executor hop), found through ``venue``; state from logs,
cycles and sizing over any of them.

Importing this package registers the built-in venues; a new venue is one folder whose
``__init__`` calls ``venue.register``, and one import line below.
"""

from __future__ import annotations

from workbench.market.balancer import BalancerWeightedPool
from workbench.market.curve import CurveStableSwapPool
from workbench.market.graph import Cycle, CycleIndex, Hop, find_cycles
from workbench.market.pool import Pool, PoolState, Swap
from workbench.market.sizing import SizedOpportunity, optimal_input, simulate
from workbench.market.solidly import SolidlyPool
from workbench.market.uniswap_v2 import UniswapV2Pool, get_amount_in, get_amount_out
from workbench.market.uniswap_v3 import TickInfo, UniswapV3State
from workbench.market.venue import Venue, venue_of

__all__ = [
    "BalancerWeightedPool",
    "CurveStableSwapPool",
    "Cycle",
    "CycleIndex",
    "Hop",
    "Pool",
    "PoolState",
    "SizedOpportunity",
    "SolidlyPool",
    "Swap",
    "TickInfo",
    "UniswapV2Pool",
    "UniswapV3State",
    "Venue",
    "find_cycles",
    "get_amount_in",
    "get_amount_out",
    "optimal_input",
    "simulate",
    "venue_of",
]
