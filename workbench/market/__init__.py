"""Market model: frozen pool states and exact integer AMM math, state from logs, cycles."""

from __future__ import annotations

from workbench.market.pool import Pool, Swap
from workbench.market.uniswap_v2 import UniswapV2Pool, get_amount_in, get_amount_out

__all__ = ["Pool", "Swap", "UniswapV2Pool", "get_amount_in", "get_amount_out"]
