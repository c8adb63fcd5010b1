"""A pool's state read from a node with batched ``eth_call``s, all at one block.

V2: token0, token1, getReserves (and feePips, which our V2 fork pairs expose) in one batch.
V3: token0, token1, fee, tickSpacing, slot0 and liquidity in one batch, then every word of
the tick bitmap, then ``ticks(t)`` for each initialized tick (batches of ``batch_size``, as
nodes cap batch length, geth at 1000). A block tag is first resolved to its number so that
every call, across batches, reads the same state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from eth_utils import function_signature_to_4byte_selector

from workbench.errors import MarketError, NotAPoolError
from workbench.market.events import signed_int256
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.market.v3.state import TickInfo, UniswapV3State
from workbench.market.v3.tick_math import MAX_TICK, MIN_TICK
from workbench.rpc import Call, RpcClient, RpcError
from workbench.types import address as checksum

PoolKind = Literal["v2", "v3"]

_SIGNATURES = {
    "token0": "token0()",
    "token1": "token1()",
    "getReserves": "getReserves()",
    "feePips": "feePips()",
    "fee": "fee()",
    "tickSpacing": "tickSpacing()",
    "slot0": "slot0()",
    "liquidity": "liquidity()",
    "tickBitmap": "tickBitmap(int16)",
    "ticks": "ticks(int24)",
}
_SELECTORS = {
    n: "0x" + function_signature_to_4byte_selector(s).hex() for n, s in _SIGNATURES.items()
}
_MIN_WORDS = {"getReserves": 3, "slot0": 2, "ticks": 2}  # words read from each answer; others 1
_PROBES: dict[PoolKind, tuple[str, ...]] = {
    "v2": ("token0", "token1", "getReserves", "feePips"),
    "v3": ("token0", "token1", "fee", "tickSpacing", "slot0", "liquidity"),
}
_REQUIRED: dict[PoolKind, tuple[str, ...]] = {
    "v2": ("token0", "token1", "getReserves"),
    "v3": _PROBES["v3"],
}


def fetch_pool_state(
    rpc: RpcClient,
    address: str,
    *,
    block: int | str = "latest",
    kind: PoolKind | None = None,
    fee: int = 3000,
    batch_size: int = 1000,
) -> UniswapV2Pool | UniswapV3State:
    """The pool's state at ``block`` (a number or a tag such as 'latest'); ``kind`` None
    detects V3 (slot0 answers) or V2 (getReserves answers). ``fee`` (pips) is a V2 pair's
    fee unless it answers ``feePips()``."""
    if kind not in (None, "v2", "v3"):
        raise MarketError(f"kind must be 'v2', 'v3' or None (detect), got {kind!r}")
    pool = checksum(address)
    number = _block_number(rpc, block)
    tag = hex(number)
    names = _PROBES[kind] if kind else tuple(dict.fromkeys(_PROBES["v2"] + _PROBES["v3"]))
    answers = dict(zip(names, rpc.batch([_call(pool, n, tag) for n in names]), strict=True))
    words = {n: w for n, a in answers.items() if (w := _words(a, _MIN_WORDS.get(n, 1)))}
    found = kind or next((k for k in ("v3", "v2") if _answers(words, k)), None)
    if found is None or not _answers(words, found):
        raise NotAPoolError(pool, number, _why_not(rpc, pool, tag, words, kind))
    token0, token1 = checksum(_address(words["token0"][0])), checksum(_address(words["token1"][0]))
    if found == "v2":
        return UniswapV2Pool(
            address=pool,
            token0=token0,
            token1=token1,
            reserve0=words["getReserves"][0],
            reserve1=words["getReserves"][1],
            fee=words["feePips"][0] if "feePips" in words else fee,
        )
    if words["slot0"][0] == 0:
        raise NotAPoolError(pool, number, "a V3 pool not initialized yet (no price to swap at)")
    spacing = signed_int256(words["tickSpacing"][0])
    return UniswapV3State(
        address=pool,
        token0=token0,
        token1=token1,
        fee=words["fee"][0],
        tick_spacing=spacing,
        sqrt_price_x96=words["slot0"][0],
        tick=signed_int256(words["slot0"][1]),
        liquidity=words["liquidity"][0],
        ticks=_initialized_ticks(rpc, pool, tag, spacing, batch_size),
    )


def _initialized_ticks(
    rpc: RpcClient, pool: str, tag: str, spacing: int, batch_size: int
) -> dict[int, TickInfo]:
    """Every initialized tick: the set bits of each bitmap word, then their gross and net."""
    words = range((MIN_TICK // spacing) >> 8, ((MAX_TICK // spacing) >> 8) + 1)
    bitmaps = _batched(rpc, [_call(pool, "tickBitmap", tag, w) for w in words], batch_size)
    ticks: list[int] = []
    for word, answer in zip(words, bitmaps, strict=True):
        bits = _one_word(answer, "tickBitmap", pool)
        while bits:
            low = bits & -bits
            ticks.append(((word << 8) + low.bit_length() - 1) * spacing)
            bits ^= low
    infos = _batched(rpc, [_call(pool, "ticks", tag, t) for t in ticks], batch_size)
    out: dict[int, TickInfo] = {}
    for t, answer in zip(ticks, infos, strict=True):
        w = _words(answer, 2)
        if w is None:
            raise MarketError(f"{pool}.ticks({t}) gave no answer ({answer!r}); is it a V3 pool?")
        out[t] = TickInfo(w[0], signed_int256(w[1]))
    return out


def _block_number(rpc: RpcClient, block: int | str) -> int:
    if isinstance(block, int):
        return block
    header = rpc.call("eth_getBlockByNumber", [block, False])
    if header is None:
        raise MarketError(f"the node has no block {block!r}")
    return int(header["number"], 16)


def _call(pool: str, name: str, tag: str, arg: int | None = None) -> Call:
    data = _SELECTORS[name] + ("" if arg is None else f"{arg % 2**256:064x}")
    return ("eth_call", [{"to": pool, "data": data}, tag])


def _batched(rpc: RpcClient, calls: Sequence[Call], size: int) -> list[Any]:
    return [r for i in range(0, len(calls), size) for r in rpc.batch(calls[i : i + size])]


def _words(answer: Any, need: int) -> list[int] | None:
    """The 32-byte words of an ``eth_call`` answer; None for a revert or a too-short answer."""
    if isinstance(answer, RpcError) or not isinstance(answer, str):
        return None
    raw = bytes.fromhex(answer.removeprefix("0x"))
    if len(raw) < 32 * need:
        return None
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw) - 31, 32)]


def _one_word(answer: Any, name: str, pool: str) -> int:
    w = _words(answer, 1)
    if w is None:
        raise MarketError(f"{pool}.{name} gave no answer ({answer!r}); is it a V3 pool?")
    return w[0]


def _answers(words: dict[str, list[int]], kind: PoolKind) -> bool:
    return all(n in words for n in _REQUIRED[kind])


def _why_not(
    rpc: RpcClient, pool: str, tag: str, words: dict[str, list[int]], kind: PoolKind | None
) -> str:
    if rpc.call("eth_getCode", [pool, tag]) in ("0x", "", None):
        return "no contract there (an EOA, or not yet deployed at that block)"
    if kind:
        silent = [f"{n}()" for n in _REQUIRED[kind] if n not in words]
        return f"not a Uniswap {kind.upper()} pool: {', '.join(silent)} did not answer"
    return "a contract that answers neither V3's slot0()/tickSpacing() nor V2's getReserves()"


def _address(word: int) -> str:
    return f"0x{word & ((1 << 160) - 1):040x}"
