"""Token graph and cycles: hand-checked routes, a brute-force oracle, the index, 10k pools."""

from __future__ import annotations

import itertools
import os
import random
import time
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ConfigError, MarketError
from workbench.market.graph import WETH, Cycle, CycleIndex, Hop, find_cycles
from workbench.market.pool import Pool
from workbench.market.uniswap_v2 import UniswapV2Pool

EXAMPLES = 1000 if os.environ.get("WORKBENCH_DEEP") == "1" else 100
A, B, C = ("0x" + c * 40 for c in "abc")


@dataclass(frozen=True)
class Basket:
    """Just what the graph reads of a multi-token pool (Curve, Balancer)."""

    address: str
    tokens: tuple[str, ...]


def pair(n: int, token0: str, token1: str) -> UniswapV2Pool:
    return UniswapV2Pool(
        address=f"0x{n:040x}", token0=token0, token1=token1, reserve0=10**18, reserve1=10**18
    )


def routes(cycles: list[Cycle]) -> list[tuple[tuple[str, str, str], ...]]:
    return [tuple((h.address, h.token_in, h.token_out) for h in c.hops) for c in cycles]


def oracle(pools: list[Basket], base: str, max_hops: int) -> set[tuple[tuple[str, str, str], ...]]:
    """Every sequence of hops from base back to it, checked one by one against the rules."""
    edges = [
        (p.address, t_in, t_out)
        for p in pools
        for t_in, t_out in itertools.permutations(dict.fromkeys(p.tokens), 2)
    ]
    found = set()
    for n in range(2, max_hops + 1):
        for route in itertools.product(edges, repeat=n):
            chained = all(route[i][2] == route[(i + 1) % n][1] for i in range(n))
            fresh = all(route[i][0] != route[i + 1][0] for i in range(n - 1))  # first and last
            # may share a pool, except in a 2-hop cycle, where they are also successive
            inner = all(h[1] != base for h in route[1:])
            if route[0][1] == base and chained and fresh and inner:
                found.add(route)
    return found


def test_hand_checked_routes() -> None:
    p1, p2, pab, pbw = pair(1, WETH, A), pair(2, A, WETH), pair(3, A, B), pair(4, B, WETH)
    found = set(routes(find_cycles([p1, p2, pab, pbw])))
    a1, a2, ab, bw = (p.address for p in (p1, p2, pab, pbw))
    assert found == {
        ((a1, WETH, A), (a2, A, WETH)),
        ((a2, WETH, A), (a1, A, WETH)),
        ((a1, WETH, A), (ab, A, B), (bw, B, WETH)),
        ((a2, WETH, A), (ab, A, B), (bw, B, WETH)),
        ((bw, WETH, B), (ab, B, A), (a1, A, WETH)),
        ((bw, WETH, B), (ab, B, A), (a2, A, WETH)),
    }
    assert len(find_cycles([p1, p2, pab, pbw], max_hops=2)) == 2


def test_one_pool_per_pair_makes_no_two_hop_cycle() -> None:
    assert find_cycles([pair(1, WETH, A)]) == []
    assert find_cycles([pair(1, WETH, A), pair(2, A, B)]) == []


def test_addresses_are_case_insensitive_and_pools_count_once() -> None:
    upper = "0x" + "AB" * 20
    p1 = UniswapV2Pool(
        address="0x" + "0F" * 20, token0=WETH.upper(), token1=upper, reserve0=1, reserve1=1
    )
    p2 = pair(2, upper.lower(), WETH)
    twice = UniswapV2Pool(
        address=p2.address.upper(), token0=WETH, token1=upper, reserve0=5, reserve1=5
    )
    cycles = find_cycles([p1, p2, twice], base=WETH.upper())
    assert len(cycles) == 2 == len(set(cycles))
    assert {c.hops[1].pool for c in cycles if c.hops[1].address == p2.address} == {twice}
    assert all(c.base == WETH for c in cycles)


def test_multi_token_pools_give_a_hop_per_ordered_pair() -> None:
    basket = Basket("0x" + "ee" * 20, (WETH, A, B))
    cycles = find_cycles([basket, pair(1, A, B)])  # type: ignore[list-item]
    pools = sorted(tuple(h.address for h in c.hops) for c in cycles)
    # WETH -A-> ... through the basket both ends, the pair in the middle, in both directions;
    # never twice in a row through the basket (that is one swap in it, done worse).
    assert pools == [(basket.address, f"0x{1:040x}", basket.address)] * 2


def test_cycle_is_validated_and_identified() -> None:
    p1, p2 = pair(1, WETH, A), pair(2, A, WETH)
    there, back = Hop(pool=p1, token_in=WETH, token_out=A), Hop(pool=p2, token_in=A, token_out=WETH)
    cycle = Cycle(hops=(there, back))
    assert cycle.pools == (p1, p2)
    assert cycle.id == "-".join((WETH, p1.address, A, p2.address, WETH))
    reverse = Cycle(
        hops=(Hop(pool=p2, token_in=WETH, token_out=A), Hop(pool=p1, token_in=A, token_out=WETH))
    )
    assert reverse != cycle and reverse.id != cycle.id
    with pytest.raises(MarketError, match="buys"):
        Cycle(hops=(there, there))
    with pytest.raises(MarketError, match="two different tokens"):
        Hop(pool=p1, token_in=WETH, token_out=B)
    with pytest.raises(ConfigError, match="max_hops"):
        find_cycles([p1, p2], max_hops=4)


def test_with_pools_rebinds_states_and_keeps_identity() -> None:
    p1, p2 = pair(1, WETH, A), pair(2, A, WETH)
    cycle = find_cycles([p1, p2])[0]
    newer = UniswapV2Pool(
        address=p1.address, token0=WETH, token1=A, reserve0=7 * 10**18, reserve1=10**18
    )
    rebound = cycle.with_pools({p1.address: newer})
    assert rebound == cycle and hash(rebound) == hash(cycle) and rebound.id == cycle.id
    assert newer in rebound.pools and p2 in rebound.pools and p1 not in rebound.pools


def test_index_finds_every_cycle_touching_a_pool_once() -> None:
    pools = [pair(1, WETH, A), pair(2, A, WETH), pair(3, A, B), pair(4, B, WETH), pair(5, WETH, B)]
    cycles = find_cycles(pools)
    index = CycleIndex.of(cycles)
    for p in pools:
        assert set(index.by_pool[p.address]) == {c for c in cycles if p in c.pools}
    touched = index.touching([pools[2].address.upper(), pools[3].address, "0x" + "99" * 20])
    assert len(touched) == len(set(touched))
    assert set(touched) == {c for c in cycles if pools[2] in c.pools or pools[3] in c.pools}


tokens = st.sampled_from([WETH, A, B, C])


@st.composite
def graphs(draw: st.DrawFn) -> list[Basket]:
    n = draw(st.integers(1, 7))
    return [
        Basket(f"0x{i:040x}", tuple(draw(st.lists(tokens, min_size=2, max_size=3, unique=True))))
        for i in range(n)
    ]


@settings(max_examples=EXAMPLES, deadline=None)
@given(graphs(), st.sampled_from([2, 3]))
def test_find_cycles_matches_brute_force(pools: list[Basket], max_hops: int) -> None:
    found = routes(find_cycles(pools, max_hops=max_hops))  # type: ignore[arg-type]
    assert len(found) == len(set(found)), "a route was reported twice"
    assert set(found) == oracle(pools, WETH, max_hops)
    reversed_routes = {tuple((a, o, i) for a, i, o in reversed(r)) for r in found}
    assert reversed_routes == set(found), "every loop is found in both directions"


def hub_graph(n_pools: int, n_tokens: int, seed: int = 7) -> list[Pool]:
    """Every token against WETH, 40% also against a stablecoin hub, the rest random pairs."""
    rng = random.Random(seed)
    hubs = [WETH, A, B, C]
    others = [f"0x{i + 1:040x}" for i in range(n_tokens - 4)]
    pairs = [(WETH, t) for t in others for _ in range(rng.choice((1, 1, 2, 3)))]
    pairs += [(rng.choice(hubs[1:]), t) for t in others if rng.random() < 0.4]
    while len(pairs) < n_pools:
        pairs.append((rng.choice(others), rng.choice(others)))
    return [pair(i, a, b) for i, (a, b) in enumerate(pairs[:n_pools]) if a != b]


def test_ten_thousand_pools_take_well_under_seconds() -> None:
    pools = hub_graph(10_000, 2_000)
    start = time.perf_counter()
    cycles = find_cycles(pools)
    elapsed = time.perf_counter() - start
    assert len(cycles) > 10_000
    assert elapsed < 5, f"find_cycles took {elapsed:.2f}s on 10,000 pools"
