"""The Balancer V2 weighted-pool venue: STATE.json only (no log decoding, node reading or
Executor hop yet).

STATE.json: ``{"kind": "balancer_weighted", "address", "tokens": [..], "balances": [..],
"weights": [<1e18 = 100%>..], "decimals": [..], "swap_fee": <1e18 = 100%>,
"legacy_pow": false}``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.market.balancer.weighted_pool import BalancerWeightedPool
from workbench.market.state_json import (
    address_field,
    dataclass_json,
    flag_field,
    int_field,
    list_field,
    parse_address,
    parse_int,
)
from workbench.market.venue import Venue


class BalancerWeighted(Venue[BalancerWeightedPool]):
    """Weighted pools of 2 to 8 tokens, as the Vault swaps them; Executor.sol cannot trade them."""

    kind = "balancer_weighted"
    states = (BalancerWeightedPool,)
    gas_field = "gas_per_v3_hop"  # what screening has always charged a hop that is not V2

    def from_json(self, obj: Mapping[str, Any]) -> BalancerWeightedPool:
        return BalancerWeightedPool(
            address=address_field(obj, "address"),
            tokens=list_field(obj, "tokens", parse_address),
            balances=list_field(obj, "balances", parse_int),
            weights=list_field(obj, "weights", parse_int),
            decimals=list_field(obj, "decimals", parse_int),
            swap_fee=int_field(obj, "swap_fee"),
            legacy_pow=flag_field(obj, "legacy_pow", False),
        )

    def to_json(self, pool: BalancerWeightedPool) -> dict[str, Any]:
        return dataclass_json(pool)


BALANCER_WEIGHTED = BalancerWeighted()
