"""Optimal sizing: closed form for V2 cycles against its proven bound and brute-force scans,
the generic search on V3 mixes against scans, and exact re-simulation of every result.

Tolerances checked here (the module docstring derives them):
- all-V2 cycles: profit >= U - T, where U is the real-valued optimum (no integer input does
  better, which the scans check too) and T = 2 + sum_k prod_{j>k} s_j, s_j the spot rates;
- other cycles: profit >= the best of a scan - max(GENERIC_WEI, scan best // 10**6).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from workbench.errors import MarketError
from workbench.market.graph import WETH, Cycle, Hop
from workbench.market.pool import Pool, Swap
from workbench.market.sizing import (
    MAX_AMOUNT,
    SizedOpportunity,
    _constant_product_hops,
    _memoised,
    _peak,
    _search,
    optimal_input,
    simulate,
)
from workbench.market.uniswap_v2 import MAX_RESERVE, UniswapV2Pool, get_amount_out
from workbench.market.uniswap_v3 import TickInfo, UniswapV3State
from workbench.market.uniswap_v3.tick_math import get_sqrt_ratio_at_tick

DEEP = os.environ.get("WORKBENCH_DEEP") == "1"
EXAMPLES = 1000 if DEEP else 60
V3_EXAMPLES = 300 if DEEP else 25
GENERIC_WEI = 64
A, B = "0x" + "aa" * 20, "0x" + "bb" * 20


def v2(n: int, token_in: str, token_out: str, r_in: int, r_out: int, fee: int = 3000) -> Hop:
    pool = UniswapV2Pool(
        address=f"0x{n:040x}",
        token0=token_in,
        token1=token_out,
        reserve0=r_in,
        reserve1=r_out,
        fee=fee,
    )
    return Hop(pool=pool, token_in=token_in, token_out=token_out)


def v3(
    n: int,
    token_in: str,
    token_out: str,
    tick: int,
    positions: list[tuple[int, int, int]],
    fee: int,
) -> Hop:
    """A V3 pool at ``tick`` (price of token1 in token0 = 1.0001**tick) with liquidity
    positions (lower, upper, liquidity); token0 is ``token_in``."""
    spacing = {500: 10, 3000: 60, 10000: 200}[fee]
    gross: defaultdict[int, int] = defaultdict(int)
    net: defaultdict[int, int] = defaultdict(int)
    for lower, upper, liquidity in positions:
        lower, upper = lower // spacing * spacing, upper // spacing * spacing
        gross[lower] += liquidity
        gross[upper] += liquidity
        net[lower] += liquidity
        net[upper] -= liquidity
    tick = tick // spacing * spacing
    state = UniswapV3State(
        address=f"0x{n:040x}",
        token0=token_in,
        token1=token_out,
        fee=fee,
        tick_spacing=spacing,
        sqrt_price_x96=get_sqrt_ratio_at_tick(tick),
        tick=tick,
        liquidity=sum(
            lq
            for lo, up, lq in positions
            if lo // spacing * spacing <= tick < up // spacing * spacing
        ),
        ticks={t: TickInfo(gross[t], net[t]) for t in gross},
    )
    return Hop(pool=state, token_in=token_in, token_out=token_out)


def profit(cycle: Cycle, x: int) -> int | None:
    try:
        return simulate(cycle, x)[1]
    except MarketError:
        return None


def scan_best(cycle: Cycle, around: int, top: int) -> int:
    """The best exact profit over a geometric and a linear grid up to ``top`` and the 200
    integers around ``around`` (0 when no point is profitable)."""
    points = {2**k for k in range(top.bit_length())}
    points |= {top * i // 200 for i in range(1, 201)}
    points |= set(range(max(1, around - 100), min(top, around + 100) + 1))
    return max([0, *(p for x in points if (p := profit(cycle, x)) is not None)])


def check_resimulates(opportunity: SizedOpportunity | None, cycle: Cycle) -> None:
    if opportunity is not None:
        assert opportunity.profit > 0 and opportunity.cycle is cycle
        assert simulate(cycle, opportunity.amount_in) == (
            opportunity.amount_out,
            opportunity.profit,
        )


def v2_bound(hops: list[tuple[int, int, int]]) -> tuple[Fraction, Fraction]:
    """(U, T) for V2 hops given as (reserve in, reserve out, fee): the real-valued optimum
    (rounded up) and the tolerance stated in workbench.market.sizing."""
    n, d, m = 1, 1, 0
    for r_in, r_out, fee in hops:
        g = 10**6 - fee
        n, d, m = n * g * r_out, d * 10**6 * r_in, 10**6 * r_in * m + g * n
    root = isqrt(n * d) + 1
    upper = Fraction(max(0, root - d) ** 2, m * d)
    spot = [Fraction((10**6 - fee) * r_out, 10**6 * r_in) for r_in, r_out, fee in hops]
    tolerance = Fraction(2)
    for k in range(len(hops)):
        later = Fraction(1)
        for s in spot[k + 1 :]:
            later *= s
        tolerance += later
    return upper, tolerance


reserves = st.builds(  # log-uniform from 10**3 to 10**26
    lambda exponent, mantissa: mantissa * 10**exponent,
    st.integers(0, 23),
    st.integers(10**3, 10**4 - 1),
)
fees = st.sampled_from([0, 100, 500, 2500, 3000, 10_000, 30_000])
skews = st.integers(-1000, 3000)  # basis points


@st.composite
def v2_cycles(draw: st.DrawFn, n_hops: int) -> tuple[Cycle, list[tuple[int, int, int]]]:
    """Pools at random prices (up to 10**4 apart) but for the last, priced to close the loop
    at ``skews`` from break-even after fees."""
    tokens = [*[WETH, A, B][:n_hops], WETH]
    fee_list = [draw(fees) for _ in range(n_hops)]
    specs = []
    num, den = 10_000 + draw(skews), 10_000  # the last pool's r_out / r_in, built up
    for fee in fee_list:
        num, den = num * 10**6, den * (10**6 - fee)
    for fee in fee_list[:-1]:
        r_in = draw(reserves)
        r_out = r_in * draw(st.integers(1, 10**4)) // draw(st.integers(1, 10**4)) + 1
        specs.append((r_in, r_out, fee))
        num, den = num * r_in, den * r_out
    r_in = draw(reserves)
    specs.append((r_in, r_in * num // den + 1, fee_list[-1]))
    hops = tuple(v2(i + 1, tokens[i], tokens[i + 1], *spec) for i, spec in enumerate(specs))
    return Cycle(hops=hops), specs


def check_v2_closed_form(cycle: Cycle, specs: list[tuple[int, int, int]]) -> None:
    upper, tolerance = v2_bound(specs)
    found = optimal_input(cycle)
    event("profitable" if found else "not profitable")
    check_resimulates(found, cycle)
    x = found.amount_in if found else 1
    best = scan_best(cycle, around=x, top=4 * x + 4 * 10**6)
    assert best <= upper, "an integer input beat the real-valued optimum"
    if found is None:
        assert upper <= tolerance
    else:
        assert found.profit >= upper - tolerance
        assert found.profit >= best - tolerance


@settings(max_examples=EXAMPLES, deadline=None)
@given(v2_cycles(2))
def test_v2_v2_closed_form_is_within_its_bound(
    case: tuple[Cycle, list[tuple[int, int, int]]],
) -> None:
    check_v2_closed_form(*case)


@settings(max_examples=EXAMPLES, deadline=None)
@given(v2_cycles(3))
def test_v2_v2_v2_closed_form_is_within_its_bound(
    case: tuple[Cycle, list[tuple[int, int, int]]],
) -> None:
    check_v2_closed_form(*case)


@dataclass(frozen=True)
class Wrapped:
    """A V2 pair hidden from the closed form, so the generic search prices it."""

    pool: Pool

    @property
    def address(self) -> str:
        return self.pool.address

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.pool.tokens

    def swap_exact_in(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        swap = self.pool.swap_exact_in(token_in, amount_in, sqrt_price_limit_x96)
        return Swap(swap.amount_in, swap.amount_out, Wrapped(swap.pool_after))

    def swap_exact_out(
        self, token_in: str, amount_out: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        raise NotImplementedError


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(v2_cycles(3))
def test_generic_search_agrees_with_the_closed_form(
    case: tuple[Cycle, list[tuple[int, int, int]]],
) -> None:
    cycle, specs = case
    hidden = Cycle(
        hops=tuple(
            Hop(pool=Wrapped(h.pool), token_in=h.token_in, token_out=h.token_out)
            for h in cycle.hops
        )
    )
    closed, generic = optimal_input(cycle), optimal_input(hidden)
    check_resimulates(generic, hidden)
    upper, tolerance = v2_bound(specs)
    if generic is not None:
        assert generic.profit <= upper
    if closed is not None and closed.profit > 3 * tolerance:  # an arbitrage above the noise
        assert generic is not None
        assert generic.profit >= closed.profit - max(3 * tolerance, Fraction(closed.profit, 10**6))


ticks = st.integers(-3000, 3000)
liquidities = st.builds(lambda e, m: m * 10**e, st.integers(12, 21), st.integers(10**3, 10**4 - 1))


@st.composite
def v3_mixes(draw: st.DrawFn) -> Cycle:
    """WETH -V3-> A (-V2-> B) -V2-> WETH, the last pool's price skewed from the V3 pool's."""
    tick = draw(ticks)
    positions = [(-887_000, 887_000, draw(liquidities))]
    for _ in range(draw(st.integers(0, 3))):
        lower = tick + draw(st.integers(-2000, 1000))
        positions.append((lower, lower + draw(st.integers(200, 3000)), draw(liquidities)))
    first = v3(1, WETH, A, tick, positions, draw(st.sampled_from([500, 3000, 10000])))
    assert isinstance(first.pool, UniswapV3State)
    price = Fraction(first.pool.sqrt_price_x96**2, 2**192) * Fraction(
        10_000 + draw(st.integers(-3000, 1000)), 10_000
    )
    weth = draw(
        st.builds(lambda e, m: m * 10**e, st.integers(12, 22), st.integers(10**3, 10**4 - 1))
    )
    if draw(st.booleans()):
        return Cycle(hops=(first, v2(2, A, WETH, int(weth * price) + 1, weth)))
    b_per_a = draw(st.integers(1, 1000))
    r_a = draw(st.integers(10**15, 10**25))
    middle = v2(2, A, B, r_a, r_a * b_per_a)
    last = v2(3, B, WETH, int(weth * price * b_per_a) + 1, weth)
    return Cycle(hops=(first, middle, last))


@settings(max_examples=V3_EXAMPLES, deadline=None)
@given(v3_mixes())
def test_generic_search_on_v3_mixes_is_within_tolerance_of_a_scan(cycle: Cycle) -> None:
    found = optimal_input(cycle)
    event("profitable" if found else "not profitable")
    check_resimulates(found, cycle)
    x = found.amount_in if found else 10**18
    best = scan_best(cycle, around=x, top=4 * x)
    got = found.profit if found else 0
    assert got >= best - max(GENERIC_WEI, best // 10**6)


def test_simulate_chains_exact_swaps() -> None:
    cycle = Cycle(
        hops=(v2(1, WETH, A, 10**20, 2 * 10**23), v2(2, A, WETH, 2 * 10**23, 11 * 10**19, 2500))
    )
    mid = get_amount_out(10**18, 10**20, 2 * 10**23, 3000)
    out = get_amount_out(mid, 2 * 10**23, 11 * 10**19, 2500)
    assert simulate(cycle, 10**18) == (out, out - 10**18)


def test_a_pool_met_twice_is_met_in_its_state_after_the_first_swap() -> None:
    there = v2(1, WETH, A, 10**20, 10**20)
    back = Hop(pool=there.pool, token_in=A, token_out=WETH)
    out = simulate(Cycle(hops=(there, back)), 10**19)[0]
    mid = get_amount_out(10**19, 10**20, 10**20)
    assert out == get_amount_out(mid, 10**20 - mid, 10**20 + 10**19)
    assert out > get_amount_out(mid, 10**20, 10**20)  # the pool holds more WETH by then


def test_partial_fills_and_rejections_are_market_errors() -> None:
    thin = v3(1, WETH, A, 0, [(-600, 600, 10**18)], 3000)
    cycle = Cycle(hops=(thin, v2(2, A, WETH, 10**20, 10**20)))
    with pytest.raises(MarketError, match="fills only"):
        simulate(cycle, 10**24)
    with pytest.raises(MarketError):
        simulate(cycle, 0)  # the V3 pool rejects a zero amount


def test_known_two_dex_arbitrage() -> None:
    e18 = 10**18
    cycle = Cycle(
        hops=(
            v2(1, WETH, A, 100 * e18, 210_000 * e18, 2500),
            v2(2, A, WETH, 200_000 * e18, 100 * e18),
        )
    )
    found = optimal_input(cycle)
    assert found is not None and 10**18 < found.amount_in < 2 * 10**18
    assert found.profit > 2 * 10**16
    reverse = Cycle(
        hops=(
            v2(2, WETH, A, 100 * e18, 200_000 * e18),
            v2(1, A, WETH, 210_000 * e18, 100 * e18, 2500),
        )
    )
    assert optimal_input(reverse) is None


def test_max_input_caps_the_size() -> None:
    e18 = 10**18
    cycle = Cycle(
        hops=(
            v2(1, WETH, A, 100 * e18, 210_000 * e18, 2500),
            v2(2, A, WETH, 200_000 * e18, 100 * e18),
        )
    )
    free = optimal_input(cycle)
    capped = optimal_input(cycle, max_input=e18 // 10)
    assert free is not None and capped is not None
    assert capped.amount_in <= e18 // 10 and capped.profit < free.profit
    assert capped.profit >= scan_best(cycle, around=e18 // 10 - 100, top=e18 // 10)
    with pytest.raises(ValueError, match="max_input"):
        optimal_input(cycle, max_input=0)


def test_reserves_near_uint112_fall_back_to_the_search() -> None:
    big = MAX_RESERVE - 10**30  # the closed form's input would overflow the first pair
    cycle = Cycle(hops=(v2(1, WETH, A, big, big), v2(2, A, WETH, big // 2, big)))
    found = optimal_input(cycle)
    check_resimulates(found, cycle)
    assert found is not None and 10**30 - 10**30 // 10**6 <= found.amount_in <= 10**30


def test_search_stops_where_a_v3_pool_runs_out_of_liquidity() -> None:
    thin = v3(1, WETH, A, 0, [(-600, 600, 10**20)], 3000)
    cycle = Cycle(hops=(thin, v2(2, A, WETH, 10**22, 2 * 10**22)))  # V2 pays 2 WETH per A
    found = optimal_input(cycle)
    check_resimulates(found, cycle)
    assert found is not None
    with pytest.raises(MarketError, match="fills only"):
        simulate(cycle, found.amount_in * (10**6 + 2) // 10**6)  # past the last position
    best = scan_best(cycle, around=found.amount_in, top=4 * found.amount_in)
    assert found.profit >= best - best // 10**6


@dataclass(frozen=True)
class Basket:
    """A three-token pool (constant product per pair, 0.30% fee) that needs ``token_out``."""

    address: str
    tokens: tuple[str, ...]
    balances: tuple[int, ...]

    def swap_exact_in(
        self,
        token_in: str,
        amount_in: int,
        sqrt_price_limit_x96: int | None = None,
        *,
        token_out: str | None = None,
    ) -> Swap:
        assert token_out is not None, "a three-token pool needs token_out"
        i, j = self.tokens.index(token_in), self.tokens.index(token_out)
        out = get_amount_out(amount_in, self.balances[i], self.balances[j])
        balances = list(self.balances)
        balances[i] += amount_in
        balances[j] -= out
        return Swap(amount_in, out, Basket(self.address, self.tokens, tuple(balances)))

    def swap_exact_out(
        self, token_in: str, amount_out: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        raise NotImplementedError


def test_multi_token_pools_get_token_out_and_their_state_after_the_first_hop() -> None:
    e18 = 10**18
    basket = Basket("0x" + "ee" * 20, (WETH, A, B), (100 * e18, 100 * e18, 100 * e18))
    first = Hop(pool=basket, token_in=WETH, token_out=A)
    last = Hop(pool=basket, token_in=B, token_out=WETH)
    cycle = Cycle(hops=(first, v2(2, A, B, 100 * e18, 130 * e18), last))
    mid_a = get_amount_out(e18, 100 * e18, 100 * e18)
    mid_b = get_amount_out(mid_a, 100 * e18, 130 * e18)
    # the basket is met again after the first hop paid it 1 WETH
    assert simulate(cycle, e18)[0] == get_amount_out(mid_b, 100 * e18, 101 * e18)
    assert simulate(cycle, e18)[0] != get_amount_out(mid_b, 100 * e18, 100 * e18)
    found = optimal_input(cycle)
    check_resimulates(found, cycle)
    assert found is not None
    best = scan_best(cycle, around=found.amount_in, top=4 * found.amount_in)
    assert found.profit >= best - max(GENERIC_WEI, best // 10**6)


def test_no_arbitrage_means_none() -> None:
    cycle = Cycle(hops=(v2(1, WETH, A, 10**20, 10**20), v2(2, A, WETH, 10**20, 10**20)))
    assert optimal_input(cycle) is None
    thin = v3(1, WETH, A, 0, [(-600, 600, 10**18)], 3000)
    assert optimal_input(Cycle(hops=(thin, v2(2, A, WETH, 10**20, 10**20)))) is None


def test_a_trade_within_a_v3_range_is_bracketed_by_the_closed_form_guess() -> None:
    wide = v3(1, WETH, A, 0, [(-60_000, 60_000, 10**22)], 3000)
    cycle = Cycle(hops=(wide, v2(2, A, WETH, 10**22, 11 * 10**21)))  # V2 pays 1.1 WETH per A
    virtual = _constant_product_hops(cycle, virtual_v3=True)
    assert virtual is not None
    guess = _peak(virtual, MAX_AMOUNT)
    assert guess is not None
    evaluated: list[set[int]] = [set(), set()]
    results = []
    for seen, hint in zip(evaluated, (guess, None), strict=True):
        exact = _memoised(cycle)

        def counted(x: int, exact: Callable[[int], int] = exact, seen: set[int] = seen) -> int:
            seen.add(x)
            return exact(x)

        results.append(_search(counted, MAX_AMOUNT, 2, hint))
    with_guess, doubling = results
    assert with_guess is not None and doubling is not None
    assert len(evaluated[0]) < len(evaluated[1]) // 2  # no doubling from 1
    assert min(evaluated[0]) >= guess - (guess >> 20)  # the narrowest bracket held
    best = scan_best(cycle, around=with_guess, top=4 * with_guess)
    assert profit(cycle, with_guess) >= best - best // 10**6
    assert abs(profit(cycle, with_guess) - profit(cycle, doubling)) <= best // 10**9
