"""A V3 pool read from a node: token0, token1, fee, tickSpacing, slot0 and liquidity in one
batch, then every word of the tick bitmap, then ``ticks(t)`` for each initialized tick."""

from __future__ import annotations

from typing import Any

from workbench.errors import MarketError, NotAPoolError
from workbench.market.events import signed_int256, word_address
from workbench.market.fetch import PoolReader, Probe, answer_words, batched, eth_call
from workbench.market.uniswap_v3.state import UniswapV3State
from workbench.market.uniswap_v3.tick_math import MAX_TICK, MIN_TICK
from workbench.market.uniswap_v3.ticks import TickInfo
from workbench.rpc import RpcClient


def _pool(probe: Probe) -> UniswapV3State:
    words = probe.words
    if words["slot0()"][0] == 0:
        raise NotAPoolError(
            probe.pool, probe.block, "a V3 pool not initialized yet (no price to swap at)"
        )
    spacing = signed_int256(words["tickSpacing()"][0])
    return UniswapV3State(
        address=probe.pool,
        token0=word_address(words["token0()"][0]),
        token1=word_address(words["token1()"][0]),
        fee=words["fee()"][0],
        tick_spacing=spacing,
        sqrt_price_x96=words["slot0()"][0],
        tick=signed_int256(words["slot0()"][1]),
        liquidity=words["liquidity()"][0],
        ticks=_initialized_ticks(probe.rpc, probe.pool, probe.tag, spacing, probe.batch_size),
    )


def _initialized_ticks(
    rpc: RpcClient, pool: str, tag: str, spacing: int, batch_size: int
) -> dict[int, TickInfo]:
    """Every initialized tick: the set bits of each bitmap word, then their gross and net."""
    words = range((MIN_TICK // spacing) >> 8, ((MAX_TICK // spacing) >> 8) + 1)
    calls = [eth_call(pool, "tickBitmap(int16)", tag, w) for w in words]
    ticks: list[int] = []
    for word, answer in zip(words, batched(rpc, calls, batch_size), strict=True):
        bits = _one_word(answer, "tickBitmap", pool)
        while bits:
            low = bits & -bits
            ticks.append(((word << 8) + low.bit_length() - 1) * spacing)
            bits ^= low
    infos = batched(rpc, [eth_call(pool, "ticks(int24)", tag, t) for t in ticks], batch_size)
    out: dict[int, TickInfo] = {}
    for t, answer in zip(ticks, infos, strict=True):
        w = answer_words(answer, 2)
        if w is None:
            raise MarketError(f"{pool}.ticks({t}) gave no answer ({answer!r}); is it a V3 pool?")
        out[t] = TickInfo(w[0], signed_int256(w[1]))
    return out


def _one_word(answer: Any, name: str, pool: str) -> int:
    w = answer_words(answer, 1)
    if w is None:
        raise MarketError(f"{pool}.{name} gave no answer ({answer!r}); is it a V3 pool?")
    return w[0]


_CALLS = ("token0()", "token1()", "fee()", "tickSpacing()", "slot0()", "liquidity()")
READER = PoolReader(
    kind="v3",
    name="Uniswap V3",
    calls={c: 2 if c == "slot0()" else 1 for c in _CALLS},
    required=_CALLS,
    hint="V3's slot0()/tickSpacing()",
    build=_pool,
)
