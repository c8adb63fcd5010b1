"""Balancer V2 weighted pools: exact ports of FixedPoint, LogExpMath and WeightedMath, the
pool as the Vault swaps it (``weighted_pool``) and the venue (``venue``)."""

from __future__ import annotations

from workbench.market.balancer.errors import BalancerError
from workbench.market.balancer.venue import BALANCER_WEIGHTED
from workbench.market.balancer.weighted_math import calc_in_given_out, calc_out_given_in
from workbench.market.balancer.weighted_pool import BalancerWeightedPool
from workbench.market.venue import register

register(BALANCER_WEIGHTED)

__all__ = [
    "BALANCER_WEIGHTED",
    "BalancerError",
    "BalancerWeightedPool",
    "calc_in_given_out",
    "calc_out_given_in",
]
