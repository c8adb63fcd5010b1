"""SolidlyPool (Velodrome V2 Pool.sol): hand-checked values and swap invariants.

No Velodrome bytecode ships offline, so the stable curve is checked against an independent
bisection of the same integer invariant, and against the properties the pair enforces.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import MarketError
from workbench.market.pool import Pool
from workbench.market.solidly.pool import SolidlyPool, _f, get_y, stable_k

EXAMPLES = 2000 if os.environ.get("WORKBENCH_DEEP") == "1" else 200
E18 = 10**18
T0, T1 = "0x" + "0a" * 20, "0x" + "0b" * 20


def pair(**kw: object) -> SolidlyPool:
    args: dict[str, object] = {
        "address": "0x" + "22" * 20,
        "token0": T0,
        "token1": T1,
        "reserve0": 1000 * E18,
        "reserve1": 2000 * E18,
        "stable": False,
        "fee": 30,
    }
    args.update(kw)
    return SolidlyPool(**args)  # type: ignore[arg-type]


def test_volatile_by_hand() -> None:
    p = pair()
    s = p.swap_exact_in(T0, E18)
    # fee = 1e18 * 30 / 10_000 = 3e15; out = 0.997e18 * 2000e18 / (1000e18 + 0.997e18)
    assert s.amount_out == 997 * 10**15 * 2000 * E18 // (1000 * E18 + 997 * 10**15)
    assert s.amount_out == 1992013962079806432  # 1.992 = 0.997 * 2000 / 1000.997
    after = s.pool_after
    assert isinstance(after, SolidlyPool)
    assert after.reserve0 == 1000 * E18 + E18 - 3 * 10**15  # the fee leaves the pair
    assert after.reserve1 == 2000 * E18 - s.amount_out
    assert isinstance(p, Pool)


def least_y(x0: int, xy: int) -> int:
    """The least y with _f(x0, y) >= xy, by bisection (independent of the Newton loop)."""
    lo, hi = 0, 1
    while _f(x0, hi) < xy:
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if _f(x0, mid) < xy else (lo, mid)
    return lo


def test_stable_by_hand() -> None:
    p = pair(reserve0=1_000_000 * E18, reserve1=1_000_000 * E18, stable=True, fee=5)
    s = p.swap_exact_in(T0, 1000 * E18)
    # fee 0.5 token; x0 = 1_000_999.5e18; y solved on the x³y + xy³ curve:
    y = least_y(1_000_000 * E18 + 1000 * E18 - 5 * 10**17, stable_k(p.reserve0, p.reserve1, 18, 18))
    assert s.amount_out == 1_000_000 * E18 - y == 999499999500999250748
    # 999.5 in after the fee, 999.4999995 out: the stable curve is flat to ~(dx/x)^2 = 1e-6.


def test_stable_mixed_decimals_near_one_to_one() -> None:
    usdc_dai = pair(
        reserve0=5_000_000 * 10**6,
        reserve1=5_000_000 * E18,
        stable=True,
        fee=5,
        decimals0=6,
        decimals1=18,
    )
    s = usdc_dai.swap_exact_in(T0, 10_000 * 10**6)
    assert 9_994 * E18 < s.amount_out < 10_000 * E18
    back = usdc_dai.swap_exact_in(T1, 10_000 * E18)
    assert 9_994 * 10**6 < back.amount_out < 10_000 * 10**6


def test_api_errors() -> None:
    with pytest.raises(MarketError, match="not supported"):
        pair().swap_exact_out(T0, E18)
    with pytest.raises(MarketError, match="V3"):
        pair().swap_exact_in(T0, E18, 2**96)
    with pytest.raises(MarketError, match="not in this pool"):
        pair().swap_exact_in("0x" + "0c" * 20, E18)
    with pytest.raises(MarketError, match="basis points"):
        pair(fee=10_000)


@st.composite
def stable_pairs(draw: st.DrawFn) -> SolidlyPool:
    d0, d1 = draw(st.sampled_from([6, 18])), draw(st.sampled_from([6, 8, 18]))
    base = draw(st.integers(10**3, 10**9))
    skew = draw(st.integers(500, 2000))  # reserve1 / reserve0 in thousandths: 0.5x to 2x
    return pair(
        reserve0=base * 10**d0,
        reserve1=base * skew * 10**d1 // 1000 + draw(st.integers(0, 10**d1)),
        stable=True,
        fee=draw(st.integers(0, 300)),
        decimals0=d0,
        decimals1=d1,
    )


amount_ppm = st.integers(1, 500_000)


@settings(max_examples=EXAMPLES, deadline=None)
@given(p=stable_pairs(), ppm=amount_ppm, zfo=st.booleans(), more=st.integers(1, 10**12))
def test_stable_k_never_decreases_and_output_is_monotone(
    p: SolidlyPool, ppm: int, zfo: bool, more: int
) -> None:
    token, reserve = (T0, p.reserve0) if zfo else (T1, p.reserve1)
    amount = max(1, reserve * ppm // 1_000_000)
    s = p.swap_exact_in(token, amount)
    after = s.pool_after
    assert isinstance(after, SolidlyPool)
    assert after.k() >= p.k()  # the pair's K() check
    assert after.swap_exact_in(token, 0).amount_out == 0
    assert p.swap_exact_in(token, amount + more).amount_out >= s.amount_out


@settings(max_examples=EXAMPLES, deadline=None)
@given(x0=st.integers(10**18, 10**30), y=st.integers(10**18, 10**30), dx=st.integers(1, 10**29))
def test_get_y_finds_the_least_y_on_18_decimals(x0: int, y: int, dx: int) -> None:
    xy = _f(x0, y)
    assert get_y(x0 + dx, xy, y, 18, 18) == least_y(x0 + dx, xy)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    r0=st.integers(10**6, 10**30),
    r1=st.integers(10**6, 10**30),
    ppm=amount_ppm,
    fee=st.integers(0, 300),
)
def test_volatile_k_never_decreases_and_round_trip_loses(
    r0: int, r1: int, ppm: int, fee: int
) -> None:
    p = pair(reserve0=r0, reserve1=r1, fee=fee)
    amount = max(1, r0 * ppm // 1_000_000)
    s = p.swap_exact_in(T0, amount)
    after = s.pool_after
    assert isinstance(after, SolidlyPool)
    assert after.k() >= p.k()
    if s.amount_out:
        assert after.swap_exact_in(T1, s.amount_out).amount_out <= amount
