"""Uniswap V3 pool logs: ``Initialize``, ``Swap``, ``Mint`` and ``Burn``."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from workbench.market.events import EventLayout, PoolEvent, signed_int256, topic, word_address
from workbench.types import Address


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Initialize(PoolEvent):
    """The pool's first price (and its tick): the pool can swap from now on."""

    sqrt_price_x96: int
    tick: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Swap(PoolEvent):
    """Signed amounts (positive: paid into the pool) and the pool's price, liquidity and tick after."""

    sender: Address
    recipient: Address
    amount0: int
    amount1: int
    sqrt_price_x96: int
    liquidity: int
    tick: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Mint(PoolEvent):
    """Liquidity ``amount`` added over [tick_lower, tick_upper), for the token amounts paid."""

    sender: Address
    owner: Address
    tick_lower: int
    tick_upper: int
    amount: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Burn(PoolEvent):
    """Liquidity ``amount`` removed from [tick_lower, tick_upper) (0: a fee poke)."""

    owner: Address
    tick_lower: int
    tick_upper: int
    amount: int
    amount0: int
    amount1: int


INITIALIZE_V3 = topic("Initialize(uint160,int24)")
SWAP_V3 = topic("Swap(address,address,int256,int256,uint160,uint128,int24)")
MINT_V3 = topic("Mint(address,address,int24,int24,uint128,uint256,uint256)")
BURN_V3 = topic("Burn(address,int24,int24,uint128,uint256,uint256)")


def _initialize(base: dict[str, Any], t: list[int], w: list[int]) -> V3Initialize:
    return V3Initialize(**base, sqrt_price_x96=w[0], tick=signed_int256(w[1]))


def _swap(base: dict[str, Any], t: list[int], w: list[int]) -> V3Swap:
    return V3Swap(
        **base,
        sender=word_address(t[1]),
        recipient=word_address(t[2]),
        amount0=signed_int256(w[0]),
        amount1=signed_int256(w[1]),
        sqrt_price_x96=w[2],
        liquidity=w[3],
        tick=signed_int256(w[4]),
    )


def _mint(base: dict[str, Any], t: list[int], w: list[int]) -> V3Mint:
    return V3Mint(
        **base,
        sender=word_address(w[0]),
        owner=word_address(t[1]),
        tick_lower=signed_int256(t[2]),
        tick_upper=signed_int256(t[3]),
        amount=w[1],
        amount0=w[2],
        amount1=w[3],
    )


def _burn(base: dict[str, Any], t: list[int], w: list[int]) -> V3Burn:
    return V3Burn(
        **base,
        owner=word_address(t[1]),
        tick_lower=signed_int256(t[2]),
        tick_upper=signed_int256(t[3]),
        amount=w[0],
        amount0=w[1],
        amount1=w[2],
    )


LAYOUTS = MappingProxyType(
    {
        INITIALIZE_V3: EventLayout("V3 Initialize", 1, 2, V3Initialize, _initialize),
        SWAP_V3: EventLayout("V3 Swap", 3, 5, V3Swap, _swap),
        MINT_V3: EventLayout("V3 Mint", 4, 4, V3Mint, _mint),
        BURN_V3: EventLayout("V3 Burn", 4, 3, V3Burn, _burn),
    }
)
"""topic0 -> layout (name, topics, 32-byte data words, event class, builder)."""
