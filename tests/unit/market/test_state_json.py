"""STATE.json: every kind parses, round-trips, and refuses bad fields with a clear message."""

from __future__ import annotations

import pytest

from workbench.errors import MarketError
from workbench.market.quote import quote_request
from workbench.market.state_json import parse_int, pool_from_json, pool_to_json
from workbench.market.uniswap_v3.tick_math import get_sqrt_ratio_at_tick

A, B, C, P = ("0x" + c * 40 for c in "abc1")
E18 = 10**18
STATES = [
    {
        "kind": "uniswap_v2",
        "address": P,
        "token0": A,
        "token1": B,
        "reserve0": E18,
        "reserve1": 2 * E18,
        "fee": 2500,
    },
    {
        "kind": "uniswap_v3",
        "address": P,
        "token0": A,
        "token1": B,
        "fee": 3000,
        "tick_spacing": 60,
        "sqrt_price_x96": get_sqrt_ratio_at_tick(0),
        "tick": 0,
        "liquidity": E18,
        "ticks": {
            "-60": {"liquidity_gross": E18, "liquidity_net": E18},
            "60": {"liquidity_gross": E18, "liquidity_net": -E18},
        },
    },
    {
        "kind": "solidly",
        "address": P,
        "token0": A,
        "token1": B,
        "reserve0": 10**12,
        "reserve1": 10**24,
        "stable": True,
        "fee": 5,
        "decimals0": 6,
        "decimals1": 18,
    },
    {
        "kind": "curve_stableswap",
        "address": P,
        "tokens": [A, B, C],
        "balances": [10**24, 10**12, 10**12],
        "decimals": [18, 6, 6],
        "amp": 200_000,
        "fee": 1_000_000,
        "admin_fee": 5_000_000_000,
        "a_precision": 100,
    },
    {
        "kind": "balancer_weighted",
        "address": P,
        "tokens": [A, B, C],
        "balances": [10**24, 10**12, 10**22],
        "weights": [5 * 10**17, 3 * 10**17, 2 * 10**17],
        "decimals": [18, 6, 18],
        "swap_fee": 3 * 10**15,
        "legacy_pow": False,
    },
]


@pytest.mark.parametrize("state", STATES, ids=[s["kind"] for s in STATES])
def test_every_kind_round_trips_and_quotes(state: dict) -> None:
    pool = pool_from_json(state)
    assert pool_to_json(pool) == state
    request = {"pool": state, "token_in": A, "amount_in": str(E18 // 1000)}
    if len(pool.tokens) > 2:
        with pytest.raises(MarketError, match="token_out"):
            quote_request(request)
        request["token_out"] = B
    result = quote_request(request)
    assert result["amount_in"] == E18 // 1000 and result["amount_out"] > 0


def test_integers_as_numbers_or_decimal_strings_only() -> None:
    assert (
        parse_int(
            "115792089237316195423570985008687907853269984665640564039457584007913129639935", "x"
        )
        == 2**256 - 1
    )
    assert parse_int(" 42 ", "x") == 42 and parse_int("-7", "x", signed=True) == -7
    for bad in (2**256, "0x10", "1e18", 1.0, True, None, "-1", "١٢"):
        with pytest.raises(MarketError):
            parse_int(bad, "x")


def test_bad_states_say_what_is_wrong() -> None:
    with pytest.raises(MarketError, match="reserve1"):
        pool_from_json({k: v for k, v in STATES[0].items() if k != "reserve1"})
    with pytest.raises(MarketError, match="token0"):
        pool_from_json({**STATES[0], "token0": "0x123"})
    with pytest.raises(MarketError, match="multiple of tick_spacing"):
        pool_from_json({**STATES[1], "ticks": {"7": {"liquidity_gross": 1, "liquidity_net": 1}}})
    with pytest.raises(MarketError, match="stable"):
        pool_from_json({**STATES[2], "stable": "yes"})
    with pytest.raises(MarketError, match="unknown pool kind"):
        pool_from_json({**STATES[0], "kind": None})


def test_market_exports_resolve() -> None:
    import workbench.market as market

    assert market.__all__ == sorted(market.__all__)
    for name in market.__all__:
        assert getattr(market, name) is not None
