"""Cycle search on a synthetic 10,000-pool graph, against plain nested loops without an index.

The graph has a realistic hub structure: every token trades against WETH (often in several
pools, as V2 and V3 fee tiers do), many against one of USDC/USDT/DAI, and the rest of the
pools pair tokens by popularity. The naive baseline (for each pool with WETH, for each pool,
for each pool with WETH, no index) runs on the same graph and must find the same routes.

Run: ``.venv/bin/python benchmarks/cycles.py``; the last line is the JSON summary.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Callable
from typing import TypeVar

from workbench.market.graph import WETH, CycleIndex, find_cycles
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


def naive_routes(pools: list[Pool], base: str) -> set[Route]:
    """Every ordered pool pair and triple through ``base``, by plain nested loops."""
    tokens = {p.address: [t.lower() for t in p.tokens] for p in pools}
    with_base = [p for p in pools if base in tokens[p.address]]
    routes: set[Route] = set()
    for p1 in with_base:
        for a in tokens[p1.address]:
            if a == base:
                continue
            hop1 = (p1.address, base, a)
            for p3 in with_base:
                if p3 is not p1 and a in tokens[p3.address]:
                    routes.add((hop1, (p3.address, a, base)))
            for p2 in pools:
                if p2 is p1 or a not in tokens[p2.address]:
                    continue
                for b in tokens[p2.address]:
                    if b in (a, base):
                        continue
                    for p3 in with_base:
                        if p3 is not p2 and b in tokens[p3.address]:
                            routes.add((hop1, (p2.address, a, b), (p3.address, b, base)))
    return routes


def timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pools", type=int, default=10_000)
    parser.add_argument("--tokens", type=int, default=2_000)
    args = parser.parse_args()

    pools = synthetic_pools(args.pools, args.tokens)
    best = math.inf
    for _ in range(3):
        cycles, seconds = timed(find_cycles, pools, WETH)
        best = min(best, seconds)
    index, index_seconds = timed(CycleIndex.of, cycles)
    routes, naive_seconds = timed(naive_routes, pools, WETH)
    found = {tuple((h.address, h.token_in, h.token_out) for h in c.hops) for c in cycles}
    assert found == routes and len(found) == len(cycles), "naive and indexed searches disagree"

    figures = {
        "pools": args.pools,
        "tokens": args.tokens,
        "cycles": len(cycles),
        "two_hop_cycles": sum(len(c.hops) == 2 for c in cycles),
        "find_cycles_s": round(best, 3),
        "index_build_s": round(index_seconds, 3),
        "indexed_pools": len(index.by_pool),
        "naive_nested_loops_s": round(naive_seconds, 3),
    }
    for name, value in figures.items():
        print(f"{name:>22}: {value}")
    print(
        json.dumps(
            {
                "benchmark": "cycles",
                "figures": figures,
                "ratios": {"indexed_vs_naive": round(naive_seconds / best, 1)},
            }
        )
    )


if __name__ == "__main__":
    main()
