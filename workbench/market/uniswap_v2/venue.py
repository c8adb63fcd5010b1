"""The Uniswap V2 venue (and its forks): STATE.json, log transitions, Executor hop and gas.

STATE.json: ``{"kind": "uniswap_v2", "address", "token0", "token1", "reserve0", "reserve1",
"fee": 3000}`` (``fee`` in pips, 3000 when absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from workbench.market.events import PoolEvent
from workbench.market.pool import UNKNOWN_TOKEN
from workbench.market.state_json import address_field, int_field
from workbench.market.uniswap_v2.events import LAYOUTS, V2Swap, V2Sync
from workbench.market.uniswap_v2.fetch import READER
from workbench.market.uniswap_v2.pool import UniswapV2Pool
from workbench.market.venue import Step, Venue

EXECUTOR_KIND = 0
"""Executor.sol's ``KIND_V2``."""
NO_FACTORY = "0x" + "00" * 20
"""A V2 step's factory: Executor.sol pays the pair before calling it and checks no callback."""


class V2Hop:
    """Executor.sol's V2 step: the pair's fee in pips, no factory, no price limit."""

    def step(
        self,
        pool: UniswapV2Pool,
        token_in: str,
        token_out: str,
        min_out: int,
        factories: Mapping[str, str],
    ) -> Step:
        return (EXECUTOR_KIND, pool.address, token_in, token_out, pool.fee, NO_FACTORY, 0, min_out)


class UniswapV2(Venue[UniswapV2Pool]):
    """Constant-product pairs: ``Sync`` sets the reserves (``Swap`` only reports amounts)."""

    kind = "uniswap_v2"
    states = (UniswapV2Pool,)
    gas_field = "gas_per_v2_hop"
    events = LAYOUTS
    reader = READER
    hop = V2Hop()

    def from_json(self, obj: Mapping[str, Any]) -> UniswapV2Pool:
        return UniswapV2Pool(
            address=address_field(obj, "address"),
            token0=address_field(obj, "token0"),
            token1=address_field(obj, "token1"),
            reserve0=int_field(obj, "reserve0"),
            reserve1=int_field(obj, "reserve1"),
            fee=int_field(obj, "fee", default=3000),
        )

    def to_json(self, pool: UniswapV2Pool) -> dict[str, Any]:
        return {
            "address": pool.address,
            "token0": pool.token0,
            "token1": pool.token1,
            "reserve0": pool.reserve0,
            "reserve1": pool.reserve1,
            "fee": pool.fee,
        }

    def apply(self, state: UniswapV2Pool, event: PoolEvent) -> UniswapV2Pool | None:
        if isinstance(event, V2Sync):
            return replace(state, reserve0=event.reserve0, reserve1=event.reserve1)
        if isinstance(event, V2Swap):
            return state
        return None

    def discover(self, event: PoolEvent, *, fee: int) -> UniswapV2Pool | None:
        if not isinstance(event, V2Sync):
            return None
        return UniswapV2Pool(
            address=event.address,
            token0=UNKNOWN_TOKEN,
            token1=UNKNOWN_TOKEN,
            reserve0=event.reserve0,
            reserve1=event.reserve1,
            fee=fee,
        )


UNISWAP_V2 = UniswapV2()
