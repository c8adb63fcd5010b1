"""The default devnet market meets the issue's requirements; keys and config are stable."""

from __future__ import annotations

import pytest

from devnet import BotParams, DevnetConfig
from devnet.keys import agent_account, coinbase, stream
from devnet.spec import DECIMALS, USD_PRICE, default_market, initial_tick, units
from workbench.chain.market_spec import V3_TICK_SPACING, WETH
from workbench.errors import ConfigError
from workbench.market.uniswap_v3.tick_math import MAX_TICK


def test_tokens_include_weth_and_a_six_decimal_stablecoin() -> None:
    spec = default_market()
    symbols = {t.symbol for t in spec.tokens} | {WETH}  # WETH9 is always deployed
    assert len(symbols) >= 6
    assert any(t.decimals == 6 and USD_PRICE[t.symbol] == 1 for t in spec.tokens)


def test_two_v2_dexes_with_different_fees_and_at_least_eight_pairs() -> None:
    spec = default_market()
    fees = {d.name: d.fee_pips for d in spec.v2_dexes}
    assert len(fees) == 2 and len(set(fees.values())) == 2
    assert len(spec.v2_pairs) >= 8
    assert {p.dex for p in spec.v2_pairs} == set(fees)


def test_v3_pools_span_fee_tiers_with_concentrated_positions() -> None:
    spec = default_market()
    assert len(spec.v3_pools) >= 6
    assert len({p.fee for p in spec.v3_pools}) >= 3
    for pool in spec.v3_pools:
        spacing = V3_TICK_SPACING[pool.fee]
        centre = initial_tick(pool.token_a, pool.token_b)
        concentrated = [p for p in pool.positions if p.tick_upper - p.tick_lower < MAX_TICK]
        assert concentrated, f"{pool.token_a}/{pool.token_b}/{pool.fee} has no concentrated range"
        for p in concentrated:
            assert p.tick_lower <= centre < p.tick_upper
            assert p.tick_lower % spacing == 0 == p.tick_upper % spacing


def test_amounts_are_exact_integers() -> None:
    assert units("USDC", 3_000_000) == 3_000_000 * 10**6
    assert units("WETH", 3000) == 10**18
    assert units("WBTC", 60_000) == 10 ** DECIMALS["WBTC"]


def test_keys_and_streams_follow_the_seed() -> None:
    assert agent_account(1, "noise", 0).address == agent_account(1, "noise", 0).address
    addresses = {
        agent_account(s, r, i).address for s in (1, 2) for r in ("noise", "bot") for i in (0, 1)
    }
    assert len(addresses) == 8
    assert coinbase(1) == coinbase(1) != coinbase(2)
    assert stream(1, "x", 3).random() == stream(1, "x", 3).random() != stream(1, "x", 4).random()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"blocks": 0},
        {"seed": -1},
        {"build_cutoff_ms": 12_000},
        {"bots": (BotParams(name="a", decide_at_ms=1, tip_mwei=1, bid_bps=1),) * 2},
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        DevnetConfig(**kwargs)  # type: ignore[arg-type]
