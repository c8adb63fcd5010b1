"""Balancer V2 ``LogExpMath``: 18-decimal fixed-point exp, ln and pow, ported line by line.

Solidity's signed division truncates toward zero (Python's ``//`` floors), so every signed
division goes through ``_div``/``_mod``. ``pow`` uses the 36-decimal ``_ln_36`` for bases in
(0.9, 1.1) and the 20-decimal ``_ln`` otherwise, exactly as the contract does.
"""

from __future__ import annotations

from workbench.market.balancer.errors import (
    INVALID_EXPONENT,
    OUT_OF_BOUNDS,
    PRODUCT_OUT_OF_BOUNDS,
    X_OUT_OF_BOUNDS,
    Y_OUT_OF_BOUNDS,
    require,
)

ONE_18 = 10**18
ONE_20 = 10**20
ONE_36 = 10**36
MAX_NATURAL_EXPONENT = 130 * ONE_18
MIN_NATURAL_EXPONENT = -41 * ONE_18
LN_36_LOWER_BOUND = ONE_18 - 10**17
LN_36_UPPER_BOUND = ONE_18 + 10**17
MILD_EXPONENT_BOUND = 2**254 // ONE_20

# e^(x_n) for x_n = 2^(7-n): a0, a1 without decimals; x0, x1 with 18; the rest with 20.
_X0, _A0 = 128 * ONE_18, 38877084059945950922200000000000000000000000000000000000
_X1, _A1 = 64 * ONE_18, 6235149080811616882910000000
_TERMS_20 = (
    (3200000000000000000000, 7896296018268069516100000000000000),
    (1600000000000000000000, 888611052050787263676000000),
    (800000000000000000000, 298095798704172827474000),
    (400000000000000000000, 5459815003314423907810),
    (200000000000000000000, 738905609893065022723),
    (100000000000000000000, 271828182845904523536),
    (50000000000000000000, 164872127070012814685),
    (25000000000000000000, 128402541668774148407),
    (12500000000000000000, 113314845306682631683),
    (6250000000000000000, 106449445891785942956),
)


def _div(a: int, b: int) -> int:
    """Solidity's int256 division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _mod(a: int, b: int) -> int:
    """Solidity's int256 remainder: takes the sign of ``a``."""
    return a - _div(a, b) * b


def pow(x: int, y: int) -> int:
    """x^y for unsigned 18-decimal ``x`` and ``y`` (0^0 = 1), as ``LogExpMath.pow``."""
    if y == 0:
        return ONE_18
    if x == 0:
        return 0
    require(x >> 255 == 0, X_OUT_OF_BOUNDS)
    require(y < MILD_EXPONENT_BOUND, Y_OUT_OF_BOUNDS)
    if LN_36_LOWER_BOUND < x < LN_36_UPPER_BOUND:
        ln_36_x = _ln_36(x)
        logx_times_y = _div(ln_36_x, ONE_18) * y + _div(_mod(ln_36_x, ONE_18) * y, ONE_18)
    else:
        logx_times_y = _ln(x) * y
    logx_times_y = _div(logx_times_y, ONE_18)
    require(MIN_NATURAL_EXPONENT <= logx_times_y <= MAX_NATURAL_EXPONENT, PRODUCT_OUT_OF_BOUNDS)
    return exp(logx_times_y)


def exp(x: int) -> int:
    """e^x for signed 18-decimal ``x`` in [-41, 130]."""
    require(MIN_NATURAL_EXPONENT <= x <= MAX_NATURAL_EXPONENT, INVALID_EXPONENT)
    if x < 0:
        return _div(ONE_18 * ONE_18, exp(-x))
    if x >= _X0:
        x -= _X0
        first_an = _A0
    elif x >= _X1:
        x -= _X1
        first_an = _A1
    else:
        first_an = 1
    x *= 100
    product = ONE_20
    for x_n, a_n in _TERMS_20[:8]:  # x10 and x11 are not needed here
        if x >= x_n:
            x -= x_n
            product = _div(product * a_n, ONE_20)
    series_sum = ONE_20 + x
    term = x
    for n in range(2, 13):  # 12 Taylor terms
        term = _div(_div(term * x, ONE_20), n)
        series_sum += term
    return _div(_div(product * series_sum, ONE_20) * first_an, 100)


def ln(a: int) -> int:
    """Natural logarithm of a signed 18-decimal ``a`` > 0."""
    require(a > 0, OUT_OF_BOUNDS)
    if LN_36_LOWER_BOUND < a < LN_36_UPPER_BOUND:
        return _div(_ln_36(a), ONE_18)
    return _ln(a)


def _ln(a: int) -> int:
    if a < ONE_18:
        return -_ln(_div(ONE_18 * ONE_18, a))
    total = 0
    if a >= _A0 * ONE_18:
        a = _div(a, _A0)
        total += _X0
    if a >= _A1 * ONE_18:
        a = _div(a, _A1)
        total += _X1
    total *= 100
    a *= 100
    for x_n, a_n in _TERMS_20:
        if a >= a_n:
            a = _div(a * ONE_20, a_n)
            total += x_n
    z = _div((a - ONE_20) * ONE_20, a + ONE_20)
    z_squared = _div(z * z, ONE_20)
    num = z
    series_sum = num
    for n in (3, 5, 7, 9, 11):
        num = _div(num * z_squared, ONE_20)
        series_sum += _div(num, n)
    return _div(total + series_sum * 2, 100)


def _ln_36(x: int) -> int:
    """ln(x) with 36 decimals, for x close to one."""
    x *= ONE_18
    z = _div((x - ONE_36) * ONE_36, x + ONE_36)
    z_squared = _div(z * z, ONE_36)
    num = z
    series_sum = num
    for n in (3, 5, 7, 9, 11, 13, 15):
        num = _div(num * z_squared, ONE_36)
        series_sum += _div(num, n)
    return series_sum * 2
