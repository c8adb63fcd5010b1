"""Uniswap V3: exact ports of the pool's math libraries (``tick_math``, ``sqrt_price_math``,
``swap_math``, ``full_math``, ``liquidity_math``), the swap loop (``swap``) and the pool state
(``state``, ``ticks``); its logs (``events``, ``transitions``), reading a pool from a node
(``fetch``) and the venue that ties them together (``venue``)."""

from __future__ import annotations

from workbench.market.uniswap_v3.events import (
    BURN_V3,
    INITIALIZE_V3,
    MINT_V3,
    SWAP_V3,
    V3Burn,
    V3Initialize,
    V3Mint,
    V3Swap,
)
from workbench.market.uniswap_v3.state import UniswapV3State
from workbench.market.uniswap_v3.ticks import TickIndex, TickInfo
from workbench.market.uniswap_v3.transitions import modify_position
from workbench.market.uniswap_v3.venue import UNISWAP_V3
from workbench.market.venue import register

register(UNISWAP_V3)

__all__ = [
    "BURN_V3",
    "INITIALIZE_V3",
    "MINT_V3",
    "SWAP_V3",
    "UNISWAP_V3",
    "TickIndex",
    "TickInfo",
    "UniswapV3State",
    "V3Burn",
    "V3Initialize",
    "V3Mint",
    "V3Swap",
    "modify_position",
]
