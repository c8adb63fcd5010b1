"""The venue registry: built-in venues found by kind and by state type, and a toy venue
registered here that STATE.json, log decoding, transitions and screening find through it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest

from workbench.errors import ConfigError, MarketError
from workbench.execution.bundle import executor_steps
from workbench.market.events import EventLayout, PoolEvent, decode_log, topic
from workbench.market.graph import Cycle, Hop
from workbench.market.market_state import MarketState, next_state
from workbench.market.pool import Swap, no_price_limit, zero_for_one
from workbench.market.state_json import address_field, int_field, pool_from_json, pool_to_json
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.market.uniswap_v3 import UniswapV3State
from workbench.market.uniswap_v3.tick_math import get_sqrt_ratio_at_tick
from workbench.market.venue import Venue, register, unregister, venue, venue_of, venues
from workbench.strategy.builtin.arb_screen import ArbConfig, executable, gas_estimate

A, B, C, P, Q = ("0x" + c * 40 for c in "abcde")
E18 = 10**18
BUILT_IN = {
    "uniswap_v2": {
        "address": P,
        "token0": A,
        "token1": B,
        "reserve0": E18,
        "reserve1": 2 * E18,
        "fee": 3000,
    },
    "uniswap_v3": {
        "address": P,
        "token0": A,
        "token1": B,
        "fee": 500,
        "tick_spacing": 10,
        "sqrt_price_x96": get_sqrt_ratio_at_tick(0),
        "tick": 0,
        "liquidity": E18,
        "ticks": {
            "-10": {"liquidity_gross": E18, "liquidity_net": E18},
            "10": {"liquidity_gross": E18, "liquidity_net": -E18},
        },
    },
    "solidly": {
        "address": P,
        "token0": A,
        "token1": B,
        "reserve0": E18,
        "reserve1": E18,
        "stable": False,
        "fee": 30,
        "decimals0": 18,
        "decimals1": 18,
    },
    "curve_stableswap": {
        "address": P,
        "tokens": [A, B],
        "balances": [E18, E18],
        "decimals": [18, 18],
        "amp": 20_000,
        "fee": 4_000_000,
        "admin_fee": 0,
        "a_precision": 100,
    },
    "balancer_weighted": {
        "address": P,
        "tokens": [A, B],
        "balances": [E18, E18],
        "weights": [5 * 10**17, 5 * 10**17],
        "decimals": [18, 18],
        "swap_fee": 10**15,
        "legacy_pow": False,
    },
}
EXECUTABLE = {"uniswap_v2", "uniswap_v3"}


@pytest.mark.parametrize("kind", sorted(BUILT_IN))
def test_each_built_in_venue_is_found_by_kind_and_by_state_type(kind: str) -> None:
    found = venue(kind)
    assert found.kind == kind and found in venues()
    pool = pool_from_json({"kind": kind, **BUILT_IN[kind]})
    assert type(pool) in found.states and venue_of(pool) is found
    assert pool_to_json(pool) == {"kind": kind, **BUILT_IN[kind]}  # the round trip, through it
    assert (found.hop is not None) == (kind in EXECUTABLE) == executable(pool)
    assert isinstance(getattr(ArbConfig(), found.gas_field), int)


def test_hop_gas_is_priced_by_the_field_each_venue_names() -> None:
    cfg = ArbConfig(gas_base=1, gas_per_v2_hop=10, gas_per_v3_hop=100)
    v2 = pool_from_json({"kind": "uniswap_v2", **BUILT_IN["uniswap_v2"]})
    v3 = pool_from_json({"kind": "uniswap_v3", **{**BUILT_IN["uniswap_v3"], "address": Q}})
    cycle = Cycle(hops=(Hop(v2, A, B), Hop(v3, B, A)))
    assert gas_estimate(cycle, cfg) == 1 + 10 + 100


def test_built_in_venues_encode_their_executor_steps() -> None:
    v2 = pool_from_json({"kind": "uniswap_v2", **BUILT_IN["uniswap_v2"]})
    v3 = pool_from_json({"kind": "uniswap_v3", **{**BUILT_IN["uniswap_v3"], "address": Q}})
    assert isinstance(v2, UniswapV2Pool) and isinstance(v3, UniswapV3State)
    cycle = Cycle(hops=(Hop(v2, A, B), Hop(v3, B, A)))
    intent = SimpleNamespace(cycle=cycle, hop_min_outs=(7, 8))
    factory = "0x" + "f" * 40
    assert executor_steps(intent, {Q.lower(): factory}) == [  # type: ignore[arg-type]
        (0, P, A.lower(), B.lower(), 3000, "0x" + "00" * 20, 0, 7),
        (1, Q, B.lower(), A.lower(), 500, factory, 0, 8),
    ]
    with pytest.raises(ConfigError, match="no V3 factory known"):
        executor_steps(intent, {})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToyPool:
    """A pool of a venue the workbench does not ship: pays ``rate``/1000 of the other token."""

    address: str
    token0: str
    token1: str
    rate: int

    @property
    def tokens(self) -> tuple[str, str]:
        return (self.token0, self.token1)

    def swap_exact_in(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        no_price_limit(sqrt_price_limit_x96)
        zero_for_one(self.token0, self.token1, token_in)
        return Swap(amount_in, amount_in * self.rate // 1000, self)

    def swap_exact_out(
        self, token_in: str, amount_out: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        raise MarketError("the toy pool quotes exact input only")


@dataclass(frozen=True, slots=True, kw_only=True)
class ToyRate(PoolEvent):
    rate: int


TOY_RATE = topic("ToyRate(uint256)")


class ToyVenue(Venue[ToyPool]):
    """A venue with STATE.json, one event and its transition, and no Executor hop."""

    kind = "toy"
    states = (ToyPool,)
    gas_field = "gas_per_v3_hop"
    events = MappingProxyType(
        {TOY_RATE: EventLayout("Toy Rate", 1, 1, ToyRate, lambda b, t, w: ToyRate(**b, rate=w[0]))}
    )

    def from_json(self, obj: Mapping[str, Any]) -> ToyPool:
        return ToyPool(
            address=address_field(obj, "address"),
            token0=address_field(obj, "token0"),
            token1=address_field(obj, "token1"),
            rate=int_field(obj, "rate"),
        )

    def to_json(self, pool: ToyPool) -> dict[str, Any]:
        return {
            "address": pool.address,
            "token0": pool.token0,
            "token1": pool.token1,
            "rate": pool.rate,
        }

    def apply(self, state: ToyPool, event: PoolEvent) -> ToyPool | None:
        return replace(state, rate=event.rate) if isinstance(event, ToyRate) else None


TOY = {"kind": "toy", "address": Q, "token0": A, "token1": B, "rate": 990}


def toy_log(rate: int, *, at: int = 1, event: str = TOY_RATE) -> dict[str, Any]:
    return {
        "address": Q,
        "topics": [event],
        "data": f"0x{rate:064x}",
        "blockNumber": hex(at),
        "transactionIndex": "0x0",
        "logIndex": "0x0",
    }


@pytest.fixture
def toy() -> Iterator[Venue[Any]]:
    registered = register(ToyVenue())
    yield registered
    unregister("toy")


def test_a_registered_toy_venue_is_found_by_every_dispatcher(toy: Venue[Any]) -> None:
    pool = pool_from_json(TOY)
    assert isinstance(pool, ToyPool) and venue_of(pool) is toy and venue("toy") is toy
    assert pool_to_json(pool) == TOY

    event = decode_log(toy_log(1010))
    assert isinstance(event, ToyRate) and event.rate == 1010
    assert next_state(pool, event) == replace(pool, rate=1010)
    market = MarketState([pool])
    market.apply(toy_log(1020, at=2))
    assert market.state(Q) == replace(pool, rate=1020)

    v2 = pool_from_json({"kind": "uniswap_v2", **BUILT_IN["uniswap_v2"]})
    cycle = Cycle(hops=(Hop(pool, A, B), Hop(v2, B, A)))
    assert not executable(pool)
    cfg = ArbConfig(gas_base=1, gas_per_v2_hop=10, gas_per_v3_hop=100)
    assert gas_estimate(cycle, cfg) == 1 + 100 + 10
    intent = SimpleNamespace(cycle=cycle, hop_min_outs=())
    with pytest.raises(ConfigError, match=r"Executor\.sol cannot trade ToyPool pools"):
        executor_steps(intent, {})  # type: ignore[arg-type]


def test_a_venue_cannot_take_what_another_registered(toy: Venue[Any]) -> None:
    assert register(toy) is toy  # the same venue again: nothing changes
    with pytest.raises(MarketError, match="kind 'toy', state ToyPool, event topic"):
        register(ToyVenue())


def test_unregistered_venues_events_and_states_are_refused() -> None:
    assert decode_log(toy_log(1010)) is None  # no venue emits this topic
    assert decode_log(toy_log(1010, event=topic("Transfer(address,address,uint256)"))) is None
    pool = ToyPool(address=Q, token0=A, token1=B, rate=990)
    assert venue_of(pool) is None and not executable(pool)
    with pytest.raises(MarketError, match="unknown pool kind 'toy'"):
        pool_from_json(TOY)
    with pytest.raises(MarketError, match=r"no STATE\.json form for ToyPool"):
        pool_to_json(pool)
    v2 = pool_from_json({"kind": "uniswap_v2", **BUILT_IN["uniswap_v2"]})
    intent = SimpleNamespace(cycle=Cycle(hops=(Hop(pool, A, B), Hop(v2, B, A))), hop_min_outs=())
    with pytest.raises(ConfigError, match=r"Executor\.sol cannot trade ToyPool pools"):
        executor_steps(intent, {})  # type: ignore[arg-type]
