"""Balancer V2 ``WeightedMath`` swap formulas on upscaled (18-decimal) balances and amounts."""

from __future__ import annotations

from workbench.market.balancer.errors import MAX_IN_RATIO, MAX_OUT_RATIO, require
from workbench.market.balancer.fixed_point import (
    ONE,
    add,
    complement,
    div_down,
    div_up,
    mul_down,
    mul_up,
    pow_up,
    sub,
)

MAX_IN_RATIO_FP = 3 * 10**17  # a swap may bring in at most 30% of the balance in
MAX_OUT_RATIO_FP = 3 * 10**17  # and take out at most 30% of the balance out


def calc_out_given_in(
    balance_in: int,
    weight_in: int,
    balance_out: int,
    weight_out: int,
    amount_in: int,
    *,
    shortcuts: bool = True,
) -> int:
    """``_calcOutGivenIn``: bO * (1 - (bI / (bI + aI))^(wI / wO)), rounded down overall."""
    require(amount_in <= mul_down(balance_in, MAX_IN_RATIO_FP), MAX_IN_RATIO)
    base = div_up(balance_in, add(balance_in, amount_in))
    exponent = div_down(weight_in, weight_out)
    power = pow_up(base, exponent, shortcuts=shortcuts)
    return mul_down(balance_out, complement(power))


def calc_in_given_out(
    balance_in: int,
    weight_in: int,
    balance_out: int,
    weight_out: int,
    amount_out: int,
    *,
    shortcuts: bool = True,
) -> int:
    """``_calcInGivenOut``: bI * ((bO / (bO - aO))^(wO / wI) - 1), rounded up overall."""
    require(amount_out <= mul_down(balance_out, MAX_OUT_RATIO_FP), MAX_OUT_RATIO)
    base = div_up(balance_out, sub(balance_out, amount_out))
    exponent = div_up(weight_out, weight_in)
    power = pow_up(base, exponent, shortcuts=shortcuts)
    return mul_up(balance_in, sub(power, ONE))
