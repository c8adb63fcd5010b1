"""The market of a real chain, found on its node: every pool the known factories created up to a
block, kept when it holds enough liquidity in WETH, its tokens named and with their decimals.

Pools come from the factories' creation events (``PairCreated`` of Uniswap-V2-style factories,
``PoolCreated`` of Uniswap V3), read with ``eth_getLogs`` over block ranges that halve whenever
the node refuses one as too large. Liquidity is each pool's token balances at the block, valued in
WETH: a WETH pool by its WETH balance, any other pool by its smaller side at the price of that
token's deepest WETH pool (a pool of two tokens without a WETH pool cannot start or end a cycle
and is left out). A token that does not answer ``decimals()`` is left out with its pools.

The result is a ``DeployedMarket``, the file backtests and the live runner both take; the pools'
states are read at the start block of either, then followed from logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from eth_utils import function_signature_to_4byte_selector, keccak

from workbench.chain.market_spec import DeployedMarket, v2_pair_key, v3_pool_key
from workbench.errors import MarketError, RpcError
from workbench.rpc import RpcClient
from workbench.types import address as checksum

PAIR_CREATED = "0x" + keccak(text="PairCreated(address,address,address,uint256)").hex()
POOL_CREATED = "0x" + keccak(text="PoolCreated(address,address,uint24,int24,address)").hex()
V3_FACTORY_NAMES = frozenset({"uniswap_v3"})
"""Factory names of the networks' registries that are Uniswap V3 factories (others: V2)."""
LOG_RANGE = 50_000
"""Blocks per ``eth_getLogs`` at first (halved while the node refuses the range)."""
_BATCH = 500
_NO_OWNER = "0x0000000000000000000000000000000000000000"
_SYMBOL = re.compile(r"[^A-Za-z0-9._+-]")

Progress = Callable[[str, int, int], None]
"""``(step, done, total)``: how far discovery is (for a progress bar)."""


@dataclass(frozen=True, slots=True)
class FoundPool:
    """A pool a factory created: ``dex`` is the factory's name, ``fee`` in pips (V3 only)."""

    dex: str
    address: str
    token0: str
    token1: str
    fee: int | None = None


def _word_address(word: str) -> str:
    return checksum("0x" + word[-40:])


def creation_logs(
    rpc: RpcClient,
    factory: str,
    topic: str,
    first: int,
    last: int,
    on_progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Every log of ``factory`` with ``topic`` in blocks ``first``..``last``, in order."""
    logs: list[dict[str, Any]] = []
    start, span = first, LOG_RANGE
    while start <= last:
        end = min(last, start + span - 1)
        query = {
            "address": factory,
            "topics": [topic],
            "fromBlock": hex(start),
            "toBlock": hex(end),
        }
        try:
            logs += rpc.call("eth_getLogs", [query])
        except RpcError as err:
            if end == start:
                raise MarketError(
                    f"the node refuses the logs of {factory} in block {start}: {err.message}"
                ) from None
            span = max(1, (end - start + 1) // 2)  # too many results, or a range limit
            continue
        if on_progress:
            on_progress("creation events", end - first + 1, last - first + 1)
        start = end + 1
    return logs


def found_pools(
    rpc: RpcClient,
    factories: Mapping[str, str],
    first: int,
    last: int,
    on_progress: Progress | None = None,
) -> list[FoundPool]:
    """The pools each named factory created in blocks ``first``..``last``."""
    pools: list[FoundPool] = []
    for name, factory in factories.items():
        v3 = name in V3_FACTORY_NAMES
        topic = POOL_CREATED if v3 else PAIR_CREATED
        for log in creation_logs(rpc, factory, topic, first, last, on_progress):
            topics, data = log["topics"], log["data"][2:]
            token0, token1 = _word_address(topics[1]), _word_address(topics[2])
            if v3:  # PoolCreated(token0, token1, fee indexed; tickSpacing, pool)
                pools.append(
                    FoundPool(name, _word_address(data[64:128]), token0, token1, int(topics[3], 16))
                )
            else:  # PairCreated(token0, token1 indexed; pair, index)
                pools.append(FoundPool(name, _word_address(data[:64]), token0, token1))
    return pools


def _calls(
    rpc: RpcClient, calls: Sequence[tuple[str, str, str]], tag: str, on_progress: Progress | None
) -> list[str | None]:
    """``eth_call`` answers of (step, to, data), None for a revert; in batches."""
    out: list[str | None] = []
    for i in range(0, len(calls), _BATCH):
        chunk = calls[i : i + _BATCH]
        answers = rpc.batch(
            [("eth_call", [{"to": to, "data": data}, tag]) for _, to, data in chunk]
        )
        out += [a if isinstance(a, str) and len(a) > 2 else None for a in answers]
        if on_progress and chunk:
            on_progress(chunk[0][0], min(i + _BATCH, len(calls)), len(calls))
    return out


def _selector(signature: str) -> str:
    return "0x" + function_signature_to_4byte_selector(signature).hex()


def _balance_call(token: str, holder: str) -> str:
    return _selector("balanceOf(address)") + holder[2:].lower().rjust(64, "0")


def decode_symbol(answer: str | None, token: str) -> str:
    """A token's ``symbol()`` as a short, printable name (a string or a bytes32 answer);
    its address's start when it has none or an unprintable one."""
    text = ""
    if answer:
        raw = bytes.fromhex(answer[2:])
        try:
            if len(raw) >= 64 and int.from_bytes(raw[:32], "big") == 32:
                size = int.from_bytes(raw[32:64], "big")
                text = raw[64 : 64 + min(size, 64)].decode("utf-8", "replace")
            elif len(raw) == 32:
                text = raw.rstrip(b"\0").decode("utf-8", "replace")
        except ValueError:
            text = ""
    name = _SYMBOL.sub("", text)[:16]
    return name or token[2:8]


def _price(
    pool: FoundPool, weth: str, balances: Mapping[tuple[str, str], int], sqrt: int | None
) -> Fraction | None:
    """WETH wei per base unit of the pool's other token (None when the pool has none of it)."""
    other = pool.token1 if pool.token0 == weth else pool.token0
    if sqrt:  # V3: slot0's sqrtPriceX96 is token1 per token0
        p = Fraction(sqrt * sqrt, 2**192)
        return p if pool.token0 == other else (1 / p if p else None)
    held = balances[(pool.address, other)]
    return Fraction(balances[(pool.address, weth)], held) if held else None


def discover_market(
    rpc: RpcClient,
    *,
    chain_id: int,
    block: int,
    weth: str,
    factories: Mapping[str, str],
    min_liquidity_wei: int,
    from_block: int = 0,
    on_progress: Progress | None = None,
) -> DeployedMarket:
    """The market at ``block``: see the module docstring."""
    weth = checksum(weth)
    tag = hex(block)
    factories = {name: checksum(a) for name, a in factories.items()}
    codes = rpc.batch([("eth_getCode", [a, tag]) for a in factories.values()])
    for (name, address), code in zip(factories.items(), codes, strict=True):
        if not isinstance(code, str) or code in ("0x", ""):
            raise MarketError(
                f"factory {name} ({address}) has no code at block {block}: a factory of "
                "another chain, or a block before it was deployed"
            )
    pools = found_pools(rpc, factories, from_block, block, on_progress)
    tokens = sorted({t for p in pools for t in (p.token0, p.token1)})
    decimals_answers = _calls(
        rpc, [("token decimals", t, _selector("decimals()")) for t in tokens], tag, on_progress
    )
    decimals = {
        t: int(a, 16)
        for t, a in zip(tokens, decimals_answers, strict=True)
        if a and int(a, 16) <= 77
    }
    pools = [p for p in pools if p.token0 in decimals and p.token1 in decimals]
    held = [(p.address, t) for p in pools for t in (p.token0, p.token1)]
    answers = _calls(
        rpc, [("pool balances", t, _balance_call(t, a)) for a, t in held], tag, on_progress
    )
    balances = {k: int(a, 16) if a else 0 for k, a in zip(held, answers, strict=True)}
    weth_pools = [p for p in pools if weth in (p.token0, p.token1)]
    slots = _calls(
        rpc,
        [("pool prices", p.address, _selector("slot0()")) for p in weth_pools if p.fee is not None],
        tag,
        on_progress,
    )
    sqrt = iter(int(a[2:66], 16) if a else 0 for a in slots)
    price: dict[str, tuple[int, Fraction]] = {}  # token -> (deepest WETH balance, price)
    kept: list[FoundPool] = []
    for p in weth_pools:
        p_sqrt = next(sqrt) if p.fee is not None else None
        depth = balances[(p.address, weth)]
        if depth < min_liquidity_wei:
            continue
        kept.append(p)
        other = p.token1 if p.token0 == weth else p.token0
        value = _price(p, weth, balances, p_sqrt)
        if value and depth > price.get(other, (-1, Fraction(0)))[0]:
            price[other] = (depth, value)
    for p in pools:
        if weth in (p.token0, p.token1) or p.token0 not in price or p.token1 not in price:
            continue
        sides = [balances[(p.address, t)] * price[t][1] for t in (p.token0, p.token1)]
        if min(sides) >= min_liquidity_wei:
            kept.append(p)
    names = _names(rpc, kept, weth, tag, on_progress)
    market = _market(chain_id, weth, factories, kept, names)
    by_name = {names[t]: d for t, d in decimals.items() if t in names}
    return market.model_copy(update={"decimals": by_name, "block": block})


def _names(
    rpc: RpcClient, pools: Sequence[FoundPool], weth: str, tag: str, on_progress: Progress | None
) -> dict[str, str]:
    """A unique symbol for each token of ``pools`` (WETH: "WETH")."""
    tokens = sorted({t for p in pools for t in (p.token0, p.token1)} - {weth})
    answers = _calls(
        rpc, [("token symbols", t, _selector("symbol()")) for t in tokens], tag, on_progress
    )
    names: dict[str, str] = {weth: "WETH"}
    taken = {"WETH"}
    for token, answer in zip(tokens, answers, strict=True):
        name = decode_symbol(answer, token)
        if name in taken:  # two tokens of one symbol (a copy of a known token, often)
            name = f"{name}-{token[2:8]}"
        names[token] = name
        taken.add(name)
    return names


def _market(
    chain_id: int,
    weth: str,
    factories: Mapping[str, str],
    pools: Sequence[FoundPool],
    names: Mapping[str, str],
) -> DeployedMarket:
    v3 = [a for name, a in factories.items() if name in V3_FACTORY_NAMES]
    if len(v3) > 1:
        raise MarketError("a market holds the pools of one Uniswap V3 factory; give one")
    v2_pairs, v3_pools = {}, {}
    for p in sorted(pools, key=lambda p: (p.dex, p.address)):
        a, b = names[p.token0], names[p.token1]
        if p.fee is None:
            v2_pairs[v2_pair_key(p.dex, a, b)] = p.address
        else:
            v3_pools[v3_pool_key(a, b, p.fee)] = p.address
    return DeployedMarket(
        chain_id=chain_id,
        deployer=_NO_OWNER,
        weth=weth,
        tokens={name: t for t, name in names.items() if t != weth},
        v2_factories={n: a for n, a in factories.items() if n not in V3_FACTORY_NAMES},
        v2_routers={},
        v2_pairs=v2_pairs,
        v3_factory=v3[0] if v3 else None,
        v3_pools=v3_pools,
    )
