"""The Curve StableSwap venue (plain pools): STATE.json only (no log decoding, node reading
or Executor hop yet).

STATE.json: ``{"kind": "curve_stableswap", "address", "tokens": [..], "balances": [..],
"decimals": [..], "amp": <A * a_precision>, "fee": <of 1e10>, "admin_fee": 0,
"a_precision": 100}``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.market.curve.pool import CurveStableSwapPool
from workbench.market.state_json import (
    address_field,
    dataclass_json,
    int_field,
    list_field,
    parse_address,
    parse_int,
)
from workbench.market.venue import Venue


class CurveStableSwap(Venue[CurveStableSwapPool]):
    """Plain pools of 2 to 4 coins; Executor.sol cannot trade them."""

    kind = "curve_stableswap"
    states = (CurveStableSwapPool,)
    gas_field = "gas_per_v3_hop"  # what screening has always charged a hop that is not V2

    def from_json(self, obj: Mapping[str, Any]) -> CurveStableSwapPool:
        return CurveStableSwapPool(
            address=address_field(obj, "address"),
            tokens=list_field(obj, "tokens", parse_address),
            balances=list_field(obj, "balances", parse_int),
            decimals=list_field(obj, "decimals", parse_int),
            amp=int_field(obj, "amp"),
            fee=int_field(obj, "fee"),
            admin_fee=int_field(obj, "admin_fee", default=0),
            a_precision=int_field(obj, "a_precision", default=100),
        )

    def to_json(self, pool: CurveStableSwapPool) -> dict[str, Any]:
        return dataclass_json(pool)


CURVE_STABLESWAP = CurveStableSwap()
