"""The baseline of ``backtest.py``: the script a researcher writes with web3.py to backtest
cyclic arbitrage on a devnet dataset, with ``cyclic_arb``'s cost model and choice rule.

One Anvil from the dataset's genesis state, rolled forward: each recorded block's signed
transactions sent with ``send_raw_transaction``, then ``evm_mine`` at the recorded timestamp
(coinbase and base fee set as recorded), and the mined block's hash checked against the
recording. Before each block, on the state after its parent: the cycles whose pools the parent
block moved (``eth_getLogs`` of the pool events; every cycle when none moved or at the start)
are quoted hop by hop with one ``eth_call`` per hop (QuoterV2 ``quoteExactInputSingle`` for
V3, Router02 ``getAmountsOut`` for Uniswap V2, ``getReserves`` and the pair's fee for the V2
fork, which has no router). A cycle that loses at a small probe is dropped; the others are
sized by doubling from the probe, then golden section on integers down to the engine's width
(x / 2**17), and kept when they pay for gas and the bid; the best net first, each pool once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.providers import HTTPProvider

from workbench.chain.contracts import contract
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.replay_node import replay_node
from workbench.sources.block_view import BlockData, load_blocks
from workbench.sources.dataset import Dataset
from workbench.strategy.builtin.cyclic_arb import CyclicArbConfig

PROBE = 10**15  # 0.001 WETH: a cycle that loses here cannot pay for its gas
POOL_EVENTS = [
    "0x" + keccak(text=s).hex()
    for s in (
        "Sync(uint112,uint112)",
        "Swap(address,address,int256,int256,uint160,uint128,int24)",
        "Mint(address,address,int24,int24,uint128,uint256,uint256)",
        "Burn(address,int24,int24,uint128,uint256,uint256)",
    )
]
Hop = tuple[str, str, str]  # (pool, token in, token out), lowercase


@dataclass(frozen=True, slots=True)
class Chosen:
    cycle: str  # the engine's Cycle.id: the base, then each hop's pool and the token it buys
    amount_in: int
    profit: int


@dataclass(frozen=True, slots=True)
class PoolInfo:
    address: str
    kind: str  # "v2" or "v3"
    tokens: tuple[str, str]
    quote: Callable[[str, str, int], int]  # (token in, token out, amount in) -> amount out


def run_web3_script(root: Path, first: int, last: int, cfg: CyclicArbConfig) -> dict[str, Any]:
    """Blocks ``first..last`` of the devnet dataset at ``root``: what it chose per block,
    per-block times, eth_calls made."""
    start = time.perf_counter()
    dataset, market = Dataset.open(root), DeployedMarket.load(root / "market.json")
    genesis = dataset.origin.block_number
    hashes = dict(zip(*dataset.read("blocks").select("number", "hash"), strict=True))
    calls = [0]
    with replay_node(dataset) as node:
        # web3.py with its chain-id cache on (one request a call, not two): its fastest calls
        w3 = Web3(HTTPProvider(node.url, cache_allowed_requests=True))
        for block in load_blocks(dataset, genesis + 1, first - 1) if first > genesis + 1 else ():
            apply_block(w3, block, hashes[block.number])
        pools = read_pools(w3, market, calls)
        routes = cycles_through(list(pools.values()), market.weth.lower())
        by_pool: defaultdict[str, list[tuple[Hop, ...]]] = defaultdict(list)
        for route in routes:
            for pool in {h[0] for h in route}:
                by_pool[pool].append(route)
        moved = set() if first - 1 == genesis else moved_in(w3, first - 1, pools)
        chosen: dict[int, list[Chosen]] = {}
        per_block_ms: list[float] = []
        for block in load_blocks(dataset, first, last):
            t = time.perf_counter()
            candidates = {r for p in (moved or pools) for r in by_pool[p]}
            chosen[block.number] = choose(pools, sorted(candidates), block, cfg, calls)
            apply_block(w3, block, hashes[block.number])
            moved = moved_in(w3, block.number, pools)
            per_block_ms.append(1000 * (time.perf_counter() - t))
    return {
        "seconds": time.perf_counter() - start,
        "per_block_ms": per_block_ms,
        "chosen": chosen,
        "calls": calls[0],
        "cycles": len(routes),
    }


def read_pools(w3: Web3, market: DeployedMarket, calls: list[int]) -> dict[str, PoolInfo]:
    """Each pool's tokens and a one-eth_call quote for it."""
    quoter = contract(w3, "QuoterV2", market.v3_quoter or "").functions
    routers = {
        dex: contract(w3, "UniswapV2Router02", a).functions for dex, a in market.v2_routers.items()
    }
    pools: dict[str, PoolInfo] = {}

    def counted(fn: Callable[[str, str, int], int]) -> Callable[[str, str, int], int]:
        def quote(a: str, b: str, x: int) -> int:
            calls[0] += 1
            return fn(Web3.to_checksum_address(a), Web3.to_checksum_address(b), x)

        return quote

    for key, address in market.v2_pairs.items():
        router = routers.get(key.split(":")[0])
        pair = contract(w3, "UniswapV2Pair" if router else "V2ForkPair", address).functions
        tokens = (pair.token0().call().lower(), pair.token1().call().lower())
        if router is not None:
            quote = counted(lambda a, b, x, r=router: int(r.getAmountsOut(x, [a, b]).call()[-1]))
        else:  # a fork without a router: its reserves and its fee
            quote = counted(_fork_quote(pair, pair.feePips().call(), tokens[0]))
        pools[address.lower()] = PoolInfo(address.lower(), "v2", tokens, quote)
    for address in market.v3_pools.values():
        pool = contract(w3, "UniswapV3Pool", address).functions
        tokens = (pool.token0().call().lower(), pool.token1().call().lower())
        fee = pool.fee().call()
        quote = counted(
            lambda a, b, x, fee=fee: int(quoter.quoteExactInputSingle((a, b, x, fee, 0)).call()[0])
        )
        pools[address.lower()] = PoolInfo(address.lower(), "v3", tokens, quote)
    return pools


def _fork_quote(pair: Any, fee_pips: int, token0: str) -> Callable[[str, str, int], int]:
    def quote(a: str, b: str, x: int) -> int:
        r0, r1, _ = pair.getReserves().call()
        r_in, r_out = (r0, r1) if a.lower() == token0 else (r1, r0)
        with_fee = x * (1_000_000 - fee_pips)
        return with_fee * r_out // (r_in * 1_000_000 + with_fee)

    return quote


def cycles_through(pools: list[PoolInfo], base: str) -> list[tuple[Hop, ...]]:
    """Every 2- and 3-hop route from ``base`` back to it, each pool once per route."""
    holding: defaultdict[str, list[PoolInfo]] = defaultdict(list)
    for p in pools:
        for t in p.tokens:
            holding[t].append(p)
    routes: list[tuple[Hop, ...]] = []
    for p1 in holding[base]:
        a = p1.tokens[1] if p1.tokens[0] == base else p1.tokens[0]
        for p2 in holding[a]:
            if p2 is p1:
                continue
            b = p2.tokens[1] if p2.tokens[0] == a else p2.tokens[0]
            if b == base:
                routes.append(((p1.address, base, a), (p2.address, a, base)))
                continue
            for p3 in holding[b]:
                if p3 is not p2 and p3 is not p1 and base in p3.tokens:
                    routes.append(
                        ((p1.address, base, a), (p2.address, a, b), (p3.address, b, base))
                    )
    return routes


def choose(
    pools: dict[str, PoolInfo],
    routes: list[tuple[Hop, ...]],
    block: BlockData,
    cfg: CyclicArbConfig,
    calls: list[int],
) -> list[Chosen]:
    """``cyclic_arb``'s rule on quoted sizes: pays for gas and the bid, best net first, each
    pool in one cycle at most."""
    fee_per_gas = block.base_fee + cfg.priority_fee
    found: list[tuple[int, str, Chosen, set[str]]] = []
    for route in routes:
        sized = size(lambda x, route=route: out_of(pools, route, x))
        if sized is None:
            continue
        amount_in, profit = sized
        gas = cfg.gas_base + sum(
            cfg.gas_per_v2_hop if pools[h[0]].kind == "v2" else cfg.gas_per_v3_hop for h in route
        )
        bid = profit * cfg.bid_bps // 10_000
        net = profit - bid - gas * fee_per_gas
        if (bid == 0 and cfg.priority_fee == 0) or net < cfg.min_net_profit:
            continue
        cycle_id = "-".join([route[0][1], *(part for h in route for part in (h[0], h[2]))])
        found.append((net, cycle_id, Chosen(cycle_id, amount_in, profit), {h[0] for h in route}))
    chosen, used = [], set()
    for _, _, pick, its_pools in sorted(found, key=lambda f: (-f[0], f[1])):
        if not its_pools & used:
            used |= its_pools
            chosen.append(pick)
    return chosen


def out_of(pools: dict[str, PoolInfo], route: tuple[Hop, ...], amount: int) -> int | None:
    """The route's output for ``amount``, hop by hop on the chain; None if a quote fails."""
    for pool, token_in, token_out in route:
        try:
            amount = pools[pool].quote(token_in, token_out, amount)
        except ContractLogicError:
            return None
        if amount == 0:
            return 0
    return amount


def size(out: Callable[[int], int | None]) -> tuple[int, int] | None:
    """(amount in, profit) at the best input found, or None when the probe loses."""
    seen: dict[int, int] = {}

    def profit(x: int) -> int:
        if x not in seen:
            got = out(x)
            seen[x] = -(2**256) if got is None else got - x
        return seen[x]

    if profit(PROBE) <= 0:
        return None
    lo, x = 1, PROBE
    while profit(2 * x) > profit(x):
        lo, x = x, 2 * x
    hi = 2 * x
    c = lo + (hi - lo) * 382 // 1000  # golden section, one new quote per step
    while hi - lo > max(2, lo >> 17):
        d = lo + hi - c
        if 5 * abs(d - c) < hi - lo:
            c = lo + (hi - lo) * 382 // 1000
            d = lo + hi - c
        x1, x2 = sorted((c, d))
        if profit(x1) >= profit(x2):
            hi, c = x2, x1
        else:
            lo, c = x1, x2
    best = max(seen, key=lambda x: (seen[x], -x))
    return (best, seen[best]) if seen[best] > 0 else None


def moved_in(w3: Web3, number: int, pools: dict[str, PoolInfo]) -> set[str]:
    """The pools that block ``number`` moved (from their Sync / Swap / Mint / Burn logs)."""
    logs = w3.eth.get_logs(
        {
            "fromBlock": number,
            "toBlock": number,
            "address": [Web3.to_checksum_address(a) for a in pools],
            "topics": [POOL_EVENTS],
        }
    )
    return {str(log["address"]).lower() for log in logs}


def apply_block(w3: Web3, block: BlockData, expected_hash: str) -> None:
    """The recorded block mined on the node from its signed transactions, hash checked."""
    for tx in block.transactions:
        w3.eth.send_raw_transaction(tx["raw"])
    for method, params in (
        ("anvil_setCoinbase", [block.miner]),
        ("anvil_setNextBlockBaseFeePerGas", [hex(block.base_fee)]),
        ("evm_mine", [block.timestamp]),
    ):
        answer = w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
    mined = w3.eth.get_block("latest")
    if mined["number"] != block.number or mined["hash"].to_0x_hex() != expected_hash:
        raise RuntimeError(f"block {block.number} replayed to another block: {mined['hash']!r}")
