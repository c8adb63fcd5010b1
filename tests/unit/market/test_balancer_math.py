"""Balancer LogExpMath and FixedPoint ports: known values, rounding and revert codes."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.market.balancer import log_exp_math as lem
from workbench.market.balancer.errors import (
    DIV_INTERNAL,
    INVALID_EXPONENT,
    MUL_OVERFLOW,
    OUT_OF_BOUNDS,
    PRODUCT_OUT_OF_BOUNDS,
    SUB_OVERFLOW,
    ZERO_DIVISION,
    BalancerError,
)
from workbench.market.balancer.fixed_point import (
    FOUR,
    ONE,
    TWO,
    complement,
    div_down,
    div_up,
    mul_down,
    mul_up,
    pow_down,
    pow_up,
    sub,
)

EXAMPLES = 2000 if os.environ.get("WORKBENCH_DEEP") == "1" else 200
fp = st.integers(1, 10**30)


def test_known_values() -> None:
    # e, ln 2 and sqrt 2 to 18 decimals (truncated): the library is accurate to ~1e-18 here.
    assert lem.exp(ONE) == 2718281828459045235
    assert lem.ln(2 * ONE) == 693147180559945309
    assert lem.pow(2 * ONE, ONE // 2) == 1414213562373095047
    assert lem.exp(0) == ONE
    assert lem.pow(0, ONE) == 0
    assert lem.pow(5 * ONE, 0) == ONE  # 0^0 and x^0 are one


def test_solidity_signed_division_truncates_toward_zero() -> None:
    assert lem._div(-7, 2) == -3 and lem._mod(-7, 2) == -1
    assert lem._div(7, -2) == -3 and lem._mod(7, -2) == 1
    # ln of x < 1 goes through 1/x: exactly the negated ln of the inverse.
    assert lem.ln(ONE // 2) == -lem.ln(2 * ONE)
    assert lem.exp(-ONE) == ONE * ONE // lem.exp(ONE)


def test_ln_36_path_near_one() -> None:
    # Inside (0.9, 1.1) ln uses 36 decimals: ln(1 + 1e-18) is 1e-18 - 5e-37..., i.e. 0 or 1 wei.
    assert lem.ln(ONE + 1) in (0, 1)
    assert lem.ln(ONE + 10**16) == 9950330853168082  # ln(1.01)


def test_revert_codes() -> None:
    with pytest.raises(BalancerError) as e:
        lem.exp(131 * ONE)
    assert e.value.code == INVALID_EXPONENT
    with pytest.raises(BalancerError) as e:
        lem.ln(0)
    assert e.value.code == OUT_OF_BOUNDS
    with pytest.raises(BalancerError) as e:
        lem.pow(10**30 * ONE, 50 * ONE)
    assert e.value.code == PRODUCT_OUT_OF_BOUNDS
    for fn, args, code in [
        (mul_down, (2**255, 2), MUL_OVERFLOW),
        (mul_up, (2**255, 2), MUL_OVERFLOW),
        (div_down, (1, 0), ZERO_DIVISION),
        (div_up, (2**250, 1), DIV_INTERNAL),
        (sub, (1, 2), SUB_OVERFLOW),
    ]:
        with pytest.raises(BalancerError) as e:
            fn(*args)
        assert e.value.code == code
        assert str(e.value).startswith(f"BAL#{code:03d}")


@settings(max_examples=EXAMPLES, deadline=None)
@given(a=st.integers(0, 2**128), b=fp)
def test_rounding_pairs_bracket_the_exact_value(a: int, b: int) -> None:
    assert mul_down(a, b) <= mul_up(a, b) <= mul_down(a, b) + 1
    assert mul_down(a, b) * ONE <= a * b <= mul_up(a, b) * ONE
    assert div_down(a, b) <= div_up(a, b) <= div_down(a, b) + 1
    assert div_down(a, b) * b <= a * ONE <= div_up(a, b) * b
    assert complement(a) == max(0, ONE - a)


@settings(max_examples=EXAMPLES, deadline=None)
@given(x=st.integers(10**12, 10**24), y=st.integers(10**15, 10 * ONE))
def test_pow_bounds_and_shortcuts(x: int, y: int) -> None:
    try:
        down, up = pow_down(x, y, shortcuts=False), pow_up(x, y, shortcuts=False)
    except BalancerError:
        return  # ln(x) * y out of [-41, 130]
    assert down <= lem.pow(x, y) <= up
    # The shortcuts (pools from 2022 on) compute integer powers exactly; V1 pools don't.
    assert pow_up(x, ONE) == x
    assert pow_down(x, TWO) == mul_down(x, x) and pow_up(x, TWO) == mul_up(x, x)
    assert pow_up(x, FOUR) == mul_up(mul_up(x, x), mul_up(x, x))
    assert pow_up(x, ONE, shortcuts=False) > x  # raw pow plus its error bound


@settings(max_examples=EXAMPLES, deadline=None)
@given(x=st.integers(10**10, 10**30), x2=st.integers(10**10, 10**30))
def test_exp_ln_round_trip_and_monotone(x: int, x2: int) -> None:
    ln_x = lem.ln(x)
    if lem.MIN_NATURAL_EXPONENT <= ln_x <= lem.MAX_NATURAL_EXPONENT:
        back = lem.exp(ln_x)
        assert abs(back - x) * 10**12 <= x + 10**12  # relative 1e-12 (plus rounding of tiny x)
    if x <= x2:
        assert lem.ln(x) <= lem.ln(x2)
