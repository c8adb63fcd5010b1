"""SqrtPriceMath: exact port (next price from an amount; amount deltas between prices)."""

from __future__ import annotations

from workbench.errors import MarketError
from workbench.market.uniswap_v3.full_math import div_rounding_up, mul_div, mul_div_rounding_up

Q96 = 1 << 96
MAX_UINT160 = 2**160 - 1
MAX_UINT256 = 2**256 - 1


def _uint160(x: int) -> int:
    if x > MAX_UINT160:
        raise MarketError("sqrt price overflows uint160")
    return x


def next_sqrt_price_from_amount0_rounding_up(
    sqrt_p: int, liquidity: int, amount: int, add: bool
) -> int:
    if amount == 0:
        return sqrt_p
    numerator1 = liquidity << 96
    product = amount * sqrt_p
    if add:
        if product <= MAX_UINT256:
            denominator = numerator1 + product
            if denominator <= MAX_UINT256:
                return mul_div_rounding_up(numerator1, sqrt_p, denominator)
        return div_rounding_up(numerator1, numerator1 // sqrt_p + amount)
    if product > MAX_UINT256 or numerator1 <= product:
        raise MarketError("not enough liquidity for the output (amount0)")
    return _uint160(mul_div_rounding_up(numerator1, sqrt_p, numerator1 - product))


def next_sqrt_price_from_amount1_rounding_down(
    sqrt_p: int, liquidity: int, amount: int, add: bool
) -> int:
    if add:
        quotient = (
            (amount << 96) // liquidity
            if amount <= MAX_UINT160
            else mul_div(amount, Q96, liquidity)
        )
        return _uint160(sqrt_p + quotient)
    if amount <= MAX_UINT160:
        quotient = div_rounding_up(amount << 96, liquidity)
    else:
        quotient = mul_div_rounding_up(amount, Q96, liquidity)
    if sqrt_p <= quotient:
        raise MarketError("not enough liquidity for the output (amount1)")
    return sqrt_p - quotient


def next_sqrt_price_from_input(
    sqrt_p: int, liquidity: int, amount_in: int, zero_for_one: bool
) -> int:
    if zero_for_one:
        return next_sqrt_price_from_amount0_rounding_up(sqrt_p, liquidity, amount_in, True)
    return next_sqrt_price_from_amount1_rounding_down(sqrt_p, liquidity, amount_in, True)


def next_sqrt_price_from_output(
    sqrt_p: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    if zero_for_one:
        return next_sqrt_price_from_amount1_rounding_down(sqrt_p, liquidity, amount_out, False)
    return next_sqrt_price_from_amount0_rounding_up(sqrt_p, liquidity, amount_out, False)


def amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token0 amount between two prices for ``liquidity`` (unsigned form)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    numerator1 = liquidity << 96
    numerator2 = sqrt_b - sqrt_a
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token1 amount between two prices for ``liquidity`` (unsigned form)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, Q96)
