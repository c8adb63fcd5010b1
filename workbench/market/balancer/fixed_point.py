"""Balancer V2 ``FixedPoint``: uint256 18-decimal arithmetic with explicit rounding direction.

Overflow and division by zero raise ``BalancerError`` where the contract reverts. ``pow_down``
and ``pow_up`` take ``shortcuts``: pools built from 2022 on (weighted-pool-v2 and later)
compute x^1, x^2 and x^4 with plain multiplications; the 2021 V1 pools (``WeightedPool``,
``WeightedPool2Tokens``) always go through ``LogExpMath.pow`` and its error bound.
"""

from __future__ import annotations

from workbench.market.balancer import log_exp_math
from workbench.market.balancer.errors import (
    ADD_OVERFLOW,
    DIV_INTERNAL,
    MUL_OVERFLOW,
    SUB_OVERFLOW,
    ZERO_DIVISION,
    require,
)

ONE = 10**18
TWO = 2 * ONE
FOUR = 4 * ONE
MAX_POW_RELATIVE_ERROR = 10_000  # 1e-14
_UINT256 = 2**256


def add(a: int, b: int) -> int:
    c = a + b
    require(c < _UINT256, ADD_OVERFLOW)
    return c


def sub(a: int, b: int) -> int:
    require(b <= a, SUB_OVERFLOW)
    return a - b


def mul_down(a: int, b: int) -> int:
    product = a * b
    require(product < _UINT256, MUL_OVERFLOW)
    return product // ONE


def mul_up(a: int, b: int) -> int:
    product = a * b
    require(product < _UINT256, MUL_OVERFLOW)
    return 0 if product == 0 else (product - 1) // ONE + 1


def div_down(a: int, b: int) -> int:
    require(b != 0, ZERO_DIVISION)
    inflated = a * ONE
    require(inflated < _UINT256, DIV_INTERNAL)
    return inflated // b


def div_up(a: int, b: int) -> int:
    require(b != 0, ZERO_DIVISION)
    inflated = a * ONE
    require(inflated < _UINT256, DIV_INTERNAL)
    return 0 if inflated == 0 else (inflated - 1) // b + 1


def complement(x: int) -> int:
    """1 - x, floored at 0."""
    return ONE - x if x < ONE else 0


def pow_down(x: int, y: int, *, shortcuts: bool = True) -> int:
    """x^y rounded down (never above the true value)."""
    if shortcuts and y in (ONE, TWO, FOUR):
        if y == ONE:
            return x
        square = mul_down(x, x)
        return square if y == TWO else mul_down(square, square)
    raw = log_exp_math.pow(x, y)
    max_error = add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1)
    return 0 if raw < max_error else raw - max_error


def pow_up(x: int, y: int, *, shortcuts: bool = True) -> int:
    """x^y rounded up (never below the true value)."""
    if shortcuts and y in (ONE, TWO, FOUR):
        if y == ONE:
            return x
        square = mul_up(x, x)
        return square if y == TWO else mul_up(square, square)
    raw = log_exp_math.pow(x, y)
    return add(raw, add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1))
