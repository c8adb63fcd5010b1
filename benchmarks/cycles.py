"""Cycle search on a synthetic 10,000-pool graph: the workbench's ``find_cycles`` plus the
``CycleIndex`` the strategies use, against the loops a user would write over a token -> pools
map (for each pool with WETH, for each pool holding the token it bought, for each pool with
WETH holding the next token).

The graph has a realistic hub structure: every token trades against WETH (often in several
pools, as V2 and V3 fee tiers do), many against one of USDC/USDT/DAI, and the rest of the
pools pair tokens by popularity. Both sides run on the same graph the same number of times
(best of ``--repeat``), each timed from the pool list (the map, or the cycle index, built
inside the timing), and must find the same routes.

Run: ``.venv/bin/python benchmarks/cycles.py``; the last line is the JSON summary,
with the ratio ``indexed_vs_token_map``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

from workbench.market.graph import WETH, Cycle, CycleIndex, find_cycles
from workbench.market.pool import Pool
from workbench.market.uniswap_v2 import UniswapV2Pool

HUBS = (WETH, "0x" + "a0" * 20, "0x" + "da" * 20, "0x" + "de" * 20)  # WETH, USDC, USDT, DAI

T = TypeVar("T")
Route = tuple[tuple[str, str, str], ...]


def synthetic_pools(n_pools: int, n_tokens: int, seed: int = 1) -> list[Pool]:
    """``n_pools`` pools over ``n_tokens`` tokens. Every token trades against WETH, many
    against a stablecoin hub, the rest of the pools pair tokens drawn by a Zipf-like
    popularity; a pair has 1 to 4 pools (V2 forks and V3 fee tiers), hub pairs 4."""
    rng = random.Random(seed)
    tokens = [f"0x{i + 1:040x}" for i in range(n_tokens - len(HUBS))]
    weights = [1 / (rank + 1) for rank in range(len(tokens))]
    pairs = [(a, b) for i, a in enumerate(HUBS) for b in HUBS[i + 1 :]]
    pairs += [(WETH, t) for t in tokens]
    pairs += [(rng.choice(HUBS[1:]), t) for t in tokens if rng.random() < 0.4]
    seen = {frozenset(p) for p in pairs}
    pools: list[tuple[str, str]] = []
    for a, b in pairs:
        pools += [(a, b)] * (4 if a in HUBS and b in HUBS else rng.choice((1, 1, 1, 2, 2, 3, 4)))
    while len(pools) < n_pools:
        a, b = rng.choices(tokens, weights, k=2)
        if a != b and frozenset((a, b)) not in seen:
            seen.add(frozenset((a, b)))
            pools += [(a, b)] * rng.choice((1, 1, 2))
    return [
        UniswapV2Pool(
            address=f"0x{0xFF << 152 | i:040x}",
            token0=a,
            token1=b,
            reserve0=10**21,
            reserve1=10**21,
        )
        for i, (a, b) in enumerate(pools[:n_pools])
    ]


def token_map_routes(pools: list[Pool], base: str) -> set[Route]:
    """Every ordered pool pair and triple through ``base``: loops over a token -> pools map."""
    tokens = {p.address: [t.lower() for t in p.tokens] for p in pools}
    holding: defaultdict[str, list[str]] = defaultdict(list)
    for p in pools:
        for t in tokens[p.address]:
            holding[t].append(p.address)
    with_base = set(holding[base])
    routes: set[Route] = set()
    for p1 in holding[base]:
        for a in tokens[p1]:
            if a == base:
                continue
            hop1 = (p1, base, a)
            for p2 in holding[a]:
                if p2 == p1:
                    continue
                if p2 in with_base:
                    routes.add((hop1, (p2, a, base)))
                for b in tokens[p2]:
                    if b in (a, base):
                        continue
                    for p3 in holding[b]:
                        if p3 != p2 and p3 in with_base:
                            routes.add((hop1, (p2, a, b), (p3, b, base)))
    return routes


def indexed(pools: list[Pool], base: str) -> tuple[list[Cycle], CycleIndex]:
    """What a strategy starts from: the cycles and their pool -> cycles index."""
    cycles = find_cycles(pools, base)
    return cycles, CycleIndex.of(cycles)


def best_of(repeat: int, fn: Callable[..., T], *args: object) -> tuple[T, float]:
    """``fn(*args)`` run ``repeat`` times: its last result and the least wall time."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pools", type=int, default=10_000)
    parser.add_argument("--tokens", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side (best of)")
    args = parser.parse_args()

    pools = synthetic_pools(args.pools, args.tokens)
    (cycles, index), ours = best_of(args.repeat, indexed, pools, WETH)
    routes, theirs = best_of(args.repeat, token_map_routes, pools, WETH)
    found = {tuple((h.address, h.token_in, h.token_out) for h in c.hops) for c in cycles}
    assert found == routes and len(found) == len(cycles), "the two searches disagree"

    figures = {
        "pools": args.pools,
        "tokens": args.tokens,
        "cycles": len(cycles),
        "two_hop_cycles": sum(len(c.hops) == 2 for c in cycles),
        "indexed_pools": len(index.by_pool),
        "repeat": args.repeat,
        "find_cycles_and_index_s": round(ours, 3),
        "token_map_loops_s": round(theirs, 3),
    }
    for name, value in figures.items():
        print(f"{name:>22}: {value}")
    print(
        json.dumps(
            {
                "benchmark": "cycles",
                "figures": figures,
                "ratios": {"indexed_vs_token_map": round(theirs / ours, 2)},
            }
        )
    )


if __name__ == "__main__":
    main()
