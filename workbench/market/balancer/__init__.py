"""Balancer V2 weighted pools: exact ports of FixedPoint, LogExpMath and WeightedMath."""

from __future__ import annotations

from workbench.market.balancer.errors import BalancerError
from workbench.market.balancer.weighted_math import calc_in_given_out, calc_out_given_in
from workbench.market.balancer.weighted_pool import BalancerWeightedPool

__all__ = ["BalancerError", "BalancerWeightedPool", "calc_in_given_out", "calc_out_given_in"]
