"""The Solidly / Velodrome venue: STATE.json only (no log decoding, node reading or Executor
hop yet).

STATE.json: ``{"kind": "solidly", "address", "token0", "token1", "reserve0", "reserve1",
"stable": bool, "fee": <basis points of 10_000>, "decimals0": 18, "decimals1": 18}``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.market.solidly.pool import SolidlyPool
from workbench.market.state_json import address_field, dataclass_json, flag_field, int_field
from workbench.market.venue import Venue


class Solidly(Venue[SolidlyPool]):
    """Volatile (x·y) and stable (x³y + xy³) pairs; Executor.sol cannot trade them."""

    kind = "solidly"
    states = (SolidlyPool,)
    gas_field = "gas_per_v3_hop"  # what screening has always charged a hop that is not V2

    def from_json(self, obj: Mapping[str, Any]) -> SolidlyPool:
        return SolidlyPool(
            address=address_field(obj, "address"),
            token0=address_field(obj, "token0"),
            token1=address_field(obj, "token1"),
            reserve0=int_field(obj, "reserve0"),
            reserve1=int_field(obj, "reserve1"),
            stable=flag_field(obj, "stable"),
            fee=int_field(obj, "fee"),
            decimals0=int_field(obj, "decimals0", default=18),
            decimals1=int_field(obj, "decimals1", default=18),
        )

    def to_json(self, pool: SolidlyPool) -> dict[str, Any]:
        return dataclass_json(pool)


SOLIDLY = Solidly()
