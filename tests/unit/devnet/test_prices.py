"""Reference prices: a reproducible integer GBM (pinned by a golden value), exact conversions."""

from __future__ import annotations

import statistics

from devnet.keys import stream
from devnet.prices import ReferencePrices, reference_path, standard_draw
from devnet.spec import SYMBOLS, initial_tick, units

# The reference ticks after 300 blocks of seed 1. Every draw is exact IEEE arithmetic, so this
# holds on every machine; if it changes, every devnet history with seed 1 changes too.
GOLDEN_SEED_1_BLOCK_300 = {
    "WETH": 0,
    "USDC": 196362,
    "USDT": 196362,
    "DAI": -79962,
    "WBTC": 260329,
    "LINK": -53140,
    "UNI": -58999,
}


def test_path_is_pinned_and_a_prefix_of_longer_paths() -> None:
    path = reference_path(1, 300)
    assert dict(path[300].ticks) == GOLDEN_SEED_1_BLOCK_300
    assert reference_path(1, 20) == path[:21]
    assert reference_path(2, 20) != path[:21]


def test_stablecoins_move_together_and_weth_is_the_numeraire() -> None:
    path = reference_path(7, 50)
    for prices in path:
        assert prices.ticks["WETH"] == 0
        assert prices.pair_tick("USDC", "USDT") == path[0].pair_tick("USDC", "USDT")
    assert len({p.ticks["LINK"] for p in path}) > 10


def test_standard_draw_has_unit_variance() -> None:
    rng = stream(0, "test")
    draws = [standard_draw(rng) for _ in range(20_000)]
    assert abs(statistics.fmean(draws)) < 0.05
    assert abs(statistics.pvariance(draws) - 1) < 0.05


def test_initial_prices_match_the_market_spec() -> None:
    prices = ReferencePrices.initial()
    for a in SYMBOLS:
        for b in SYMBOLS:
            if a != b:
                assert abs(prices.pair_tick(a, b) - initial_tick(a, b)) <= 1
    for symbol in SYMBOLS:
        expected = units(symbol, 1000)
        got = prices.usd_to_units(symbol, 100_000)
        assert isinstance(got, int)
        assert abs(got - expected) * 10_000 <= expected  # within 1 bp (one tick)
