"""Quotes per second: the exact pure-Python AMM math vs the same quote through eth_call.

Python side: ``pool.amount_out`` (the quote alone, as the baselines return it; ``swap_exact_in``
also builds the pool's next state). Baselines, over the lean JSON-RPC client one call at a
time on one Anvil: Router02's
getAmountsOut for V2, QuoterV2's quoteExactInputSingle for V3 (a swap inside one tick range,
and a swap crossing 10 initialized ticks). Every Python quote is first checked equal to the
chain's. Prints, as its last line:
{"benchmark": "amm_math", "figures": {...}, "ratios": {"v2_vs_eth_call": X,
 "v3_single_range_vs_eth_call": Y, "v3_cross_10_ticks_vs_eth_call": Z}}
Targets (issue 3): X >= 500, Y >= 30, Z >= 5.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from workbench.chain.abi import decode_result, encode_call
from workbench.chain.anvil import Anvil
from workbench.chain.deploy import deploy_market
from workbench.chain.market_spec import (
    WETH,
    MarketSpec,
    TokenSpec,
    V2DexSpec,
    V2PairSpec,
    V3PoolSpec,
    V3PositionSpec,
)
from workbench.market.fetch import fetch_pool_state
from workbench.market.uniswap_v3 import UniswapV3State
from workbench.market.uniswap_v3.swap import swap
from workbench.rpc import RpcClient

E18 = 10**18
# Price 2000 TKA per WETH is tick ~76013; the fee-500 pool has a position boundary every
# 10 ticks around it so that a swap crosses many initialized ticks.
NARROW = tuple(
    V3PositionSpec(
        tick_lower=75_800 + 10 * k, tick_upper=75_810 + 10 * k, amount_a=E18, amount_b=2_000 * E18
    )
    for k in range(40)
)
SPEC = MarketSpec(
    tokens=(TokenSpec(symbol="TKA"),),
    v2_dexes=(V2DexSpec(name="uniswap"),),
    v2_pairs=(
        V2PairSpec(
            dex="uniswap", token_a=WETH, token_b="TKA", reserve_a=100 * E18, reserve_b=200_000 * E18
        ),
    ),
    v3_pools=(
        V3PoolSpec(
            token_a=WETH,
            token_b="TKA",
            fee=3000,
            price_b_per_a=(2000, 1),
            positions=(
                V3PositionSpec(
                    tick_lower=-887220,
                    tick_upper=887220,
                    amount_a=100 * E18,
                    amount_b=200_000 * E18,
                ),
            ),
        ),
        V3PoolSpec(token_a=WETH, token_b="TKA", fee=500, price_b_per_a=(2000, 1), positions=NARROW),
    ),
    executor=False,
)


def rate(fn: Callable[[], object], seconds: float, chunk: int = 1) -> float:
    """Calls per second of ``fn``, reading the clock every ``chunk`` calls."""
    fn()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(chunk):
            fn()
        done += chunk
    return done / elapsed


def amount_crossing(pool: UniswapV3State, zero_for_one: bool, crossings: int) -> int:
    """The smallest input (to a power-of-two search) whose swap crosses ``crossings`` ticks."""
    lo, hi = 1, 1
    while swap(pool, zero_for_one, hi).ticks_crossed < crossings:
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if swap(pool, zero_for_one, mid).ticks_crossed < crossings:
            lo = mid + 1
        else:
            hi = mid
    return lo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    with Anvil() as node:
        m = deploy_market(node.rpc, SPEC)
        weth, tka = m.weth, m.token("TKA")
        assert m.v2_routers and m.v3_quoter
        v2 = fetch_pool_state(node.rpc, m.v2_pairs["uniswap:WETH/TKA"])
        wide = fetch_pool_state(node.rpc, m.v3_pools["WETH/TKA/3000"])
        narrow = fetch_pool_state(node.rpc, m.v3_pools["WETH/TKA/500"])
        assert isinstance(wide, UniswapV3State) and isinstance(narrow, UniswapV3State)
        zfo = int(weth, 16) < int(tka, 16)  # selling WETH
        cross_amount = amount_crossing(narrow, zfo, 10)
        assert swap(narrow, zfo, cross_amount).ticks_crossed == 10
        cases = {
            "v2": (
                v2,
                E18,
                m.v2_routers["uniswap"],
                encode_call("UniswapV2Router02", "getAmountsOut", [E18, [weth, tka]]),
            ),
            "v3_single_range": (
                wide,
                E18,
                m.v3_quoter,
                encode_call("QuoterV2", "quoteExactInputSingle", [(weth, tka, E18, 3000, 0)]),
            ),
            "v3_cross_10_ticks": (
                narrow,
                cross_amount,
                m.v3_quoter,
                encode_call(
                    "QuoterV2", "quoteExactInputSingle", [(weth, tka, cross_amount, 500, 0)]
                ),
            ),
        }
        figures: dict[str, float] = {}
        ratios: dict[str, float] = {}
        with RpcClient(node.url) as rpc:
            for name, (pool, amount, target, data) in cases.items():
                call = {"to": target, "data": "0x" + data.hex()}
                reply = rpc.call("eth_call", [call, "latest"])
                if name == "v2":
                    chain_out = decode_result("UniswapV2Router02", "getAmountsOut", reply)[0][-1]
                else:
                    chain_out = decode_result("QuoterV2", "quoteExactInputSingle", reply)[0]
                python_out = pool.amount_out(weth, amount)
                assert python_out == chain_out == pool.swap_exact_in(weth, amount).amount_out, name
                quote_fn = pool.amount_out
                figures[f"{name}_python_quotes_per_s"] = rate(
                    lambda q=quote_fn, a=amount: q(weth, a), args.seconds, 100
                )
                figures[f"{name}_eth_call_quotes_per_s"] = rate(
                    lambda c=call: rpc.call("eth_call", [c, "latest"]), args.seconds
                )
                ratios[f"{name}_vs_eth_call"] = (
                    figures[f"{name}_python_quotes_per_s"]
                    / figures[f"{name}_eth_call_quotes_per_s"]
                )
    for key, value in figures.items():
        print(f"{key:>40}: {value:12.0f}")
    print(
        json.dumps(
            {
                "benchmark": "amm_math",
                "figures": {k: round(v, 1) for k, v in figures.items()},
                "ratios": {k: round(v, 1) for k, v in ratios.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
