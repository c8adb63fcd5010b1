"""Uniswap V2 and its forks: the pair's math (``pool``), its logs (``events``), reading a pair
from a node (``fetch``) and the venue that ties them together (``venue``)."""

from __future__ import annotations

from workbench.market.uniswap_v2.events import SWAP_V2, SYNC_V2, V2Swap, V2Sync
from workbench.market.uniswap_v2.pool import (
    FEE_DENOMINATOR,
    MAX_RESERVE,
    UniswapV2Pool,
    get_amount_in,
    get_amount_out,
)
from workbench.market.uniswap_v2.venue import UNISWAP_V2
from workbench.market.venue import register

register(UNISWAP_V2)

__all__ = [
    "FEE_DENOMINATOR",
    "MAX_RESERVE",
    "SWAP_V2",
    "SYNC_V2",
    "UNISWAP_V2",
    "UniswapV2Pool",
    "V2Swap",
    "V2Sync",
    "get_amount_in",
    "get_amount_out",
]
