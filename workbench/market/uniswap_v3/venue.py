"""The Uniswap V3 venue: STATE.json, log transitions, Executor hop and gas.

STATE.json: ``{"kind": "uniswap_v3", "address", "token0", "token1", "fee", "tick_spacing",
"sqrt_price_x96", "tick", "liquidity", "ticks": {"<tick>": {"liquidity_gross": N,
"liquidity_net": N}}}`` (``fee`` in pips: 500 = 0.05%).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.errors import ConfigError, MarketError
from workbench.market.events import PoolEvent
from workbench.market.state_json import address_field, int_field, parse_int
from workbench.market.uniswap_v3.events import LAYOUTS
from workbench.market.uniswap_v3.fetch import READER
from workbench.market.uniswap_v3.state import UniswapV3State
from workbench.market.uniswap_v3.ticks import TickInfo
from workbench.market.uniswap_v3.transitions import apply_event
from workbench.market.venue import Step, Venue

EXECUTOR_KIND = 1
"""Executor.sol's ``KIND_V3``."""


class V3Hop:
    """Executor.sol's V3 step: the fee tier, the pool's factory (the swap callback checks the
    caller against it), no price limit."""

    def step(
        self,
        pool: UniswapV3State,
        token_in: str,
        token_out: str,
        min_out: int,
        factories: Mapping[str, str],
    ) -> Step:
        factory = factories.get(pool.address.lower())
        if factory is None:
            raise ConfigError(
                f"no V3 factory known for pool {pool.address}; add it to v3_factories"
            )
        return (EXECUTOR_KIND, pool.address, token_in, token_out, pool.fee, factory, 0, min_out)


class UniswapV3(Venue[UniswapV3State]):
    """Concentrated liquidity: price, tick and liquidity from swaps, ticks from mints/burns."""

    kind = "uniswap_v3"
    states = (UniswapV3State,)
    gas_field = "gas_per_v3_hop"
    events = LAYOUTS
    reader = READER
    hop = V3Hop()

    def from_json(self, obj: Mapping[str, Any]) -> UniswapV3State:
        raw_ticks = obj.get("ticks", {})
        if not isinstance(raw_ticks, Mapping):
            raise MarketError(
                'ticks must be an object {"<tick>": {"liquidity_gross": N, "liquidity_net": N}}'
            )
        ticks = {}
        for key, info in raw_ticks.items():
            if not isinstance(info, Mapping):
                raise MarketError(
                    f"tick {key}: expected an object with liquidity_gross and liquidity_net"
                )
            tick = parse_int(key, "tick key", signed=True)
            ticks[tick] = TickInfo(
                parse_int(info.get("liquidity_gross"), f"ticks[{key}].liquidity_gross"),
                parse_int(info.get("liquidity_net"), f"ticks[{key}].liquidity_net", signed=True),
            )
        return UniswapV3State(
            address=address_field(obj, "address"),
            token0=address_field(obj, "token0"),
            token1=address_field(obj, "token1"),
            fee=int_field(obj, "fee"),
            tick_spacing=int_field(obj, "tick_spacing"),
            sqrt_price_x96=int_field(obj, "sqrt_price_x96"),
            tick=int_field(obj, "tick", signed=True),
            liquidity=int_field(obj, "liquidity"),
            ticks=ticks,
        )

    def to_json(self, pool: UniswapV3State) -> dict[str, Any]:
        return {
            "address": pool.address,
            "token0": pool.token0,
            "token1": pool.token1,
            "fee": pool.fee,
            "tick_spacing": pool.tick_spacing,
            "sqrt_price_x96": pool.sqrt_price_x96,
            "tick": pool.tick,
            "liquidity": pool.liquidity,
            "ticks": {
                str(t): {"liquidity_gross": i.liquidity_gross, "liquidity_net": i.liquidity_net}
                for t, i in sorted(pool.ticks.items())
            },
        }

    def apply(self, state: UniswapV3State, event: PoolEvent) -> UniswapV3State | None:
        return apply_event(state, event)


UNISWAP_V3 = UniswapV3()
