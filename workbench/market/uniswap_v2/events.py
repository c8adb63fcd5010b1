"""Uniswap V2 pair logs: ``Sync`` (the reserves after every change) and ``Swap``."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from workbench.market.events import EventLayout, PoolEvent, topic, word_address
from workbench.types import Address


@dataclass(frozen=True, slots=True, kw_only=True)
class V2Sync(PoolEvent):
    """The pair's reserves after a swap, mint, burn or sync: its whole state."""

    reserve0: int
    reserve1: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V2Swap(PoolEvent):
    """Amounts the pair received (net of any transfer fee) and sent; its ``Sync`` precedes it."""

    sender: Address
    to: Address
    amount0_in: int
    amount1_in: int
    amount0_out: int
    amount1_out: int


SYNC_V2 = topic("Sync(uint112,uint112)")
SWAP_V2 = topic("Swap(address,uint256,uint256,uint256,uint256,address)")


def _sync(base: dict[str, Any], t: list[int], w: list[int]) -> V2Sync:
    return V2Sync(**base, reserve0=w[0], reserve1=w[1])


def _swap(base: dict[str, Any], t: list[int], w: list[int]) -> V2Swap:
    return V2Swap(
        **base,
        sender=word_address(t[1]),
        to=word_address(t[2]),
        amount0_in=w[0],
        amount1_in=w[1],
        amount0_out=w[2],
        amount1_out=w[3],
    )


LAYOUTS = MappingProxyType(
    {
        SYNC_V2: EventLayout("V2 Sync", 1, 2, V2Sync, _sync),
        SWAP_V2: EventLayout("V2 Swap", 3, 4, V2Swap, _swap),
    }
)
"""topic0 -> layout (name, topics, 32-byte data words, event class, builder)."""
