"""EIP-1559 base fee: the next block's base fee follows exactly from its parent's header.

The fee market's ``elasticity`` (gas limit / gas target) and ``denominator`` (the most a base
fee moves per block is 1/denominator) are the chain's (``workbench.networks``): 2 and 8 on
Ethereum; other chains (OP Stack 250/6 after Canyon, for instance) set their own.
"""

from __future__ import annotations

from workbench.networks import FeeMarket

ETHEREUM = FeeMarket(elasticity=2, denominator=8)


def next_base_fee(
    base_fee: int, gas_used: int, gas_limit: int, market: FeeMarket = ETHEREUM
) -> int:
    """The base fee of the block after one with ``base_fee`` and ``gas_used`` of ``gas_limit``
    (geth's CalcBaseFee, integer for integer)."""
    target = gas_limit // market.elasticity
    if gas_used == target:
        return base_fee
    if gas_used > target:
        return base_fee + max(1, base_fee * (gas_used - target) // target // market.denominator)
    return max(0, base_fee - base_fee * (target - gas_used) // target // market.denominator)
