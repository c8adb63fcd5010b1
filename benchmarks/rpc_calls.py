"""Throughput of the same eth_call (a V2 pair's getReserves) through web3.py and the lean
client, in one run on one Anvil: web3.py's own batching (``w3.batch_requests()``, batches of
100 contract calls) against the lean client's batches of 100, and one call at a time on each
side (web3.py with its defaults, and with its chain-id cache). Every answer is checked equal
to the first one read.

Prints, as its last line: {"benchmark": "rpc_calls", "figures": {...}, "ratios":
{"lean_batch_vs_web3_batch": X, "lean_vs_web3": Y}}.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from web3 import Web3
from web3.providers import HTTPProvider

from workbench.chain.abi import decode_result, encode_call
from workbench.chain.anvil import Anvil
from workbench.chain.contracts import contract
from workbench.chain.deploy import deploy_market
from workbench.chain.market_spec import MarketSpec, TokenSpec, V2DexSpec, V2PairSpec
from workbench.rpc import RpcClient

SPEC = MarketSpec(
    tokens=(TokenSpec(symbol="TKA"),),
    v2_dexes=(V2DexSpec(name="uniswap"),),
    v2_pairs=(
        V2PairSpec(
            dex="uniswap", token_a="WETH", token_b="TKA", reserve_a=10**20, reserve_b=2 * 10**23
        ),
    ),
    executor=False,
)


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Calls per second of ``fn`` (which returns how many eth_calls it made) over ``seconds``."""
    fn()  # warm up connections and caches
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += fn()
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    with Anvil() as node:
        pair = deploy_market(node.rpc, SPEC).v2_pairs["uniswap:WETH/TKA"]
        data = "0x" + encode_call("UniswapV2Pair", "getReserves").hex()
        call = {"to": pair, "data": data}
        expected = decode_result(
            "UniswapV2Pair", "getReserves", node.rpc.call("eth_call", [call, "latest"])
        )

        w3 = Web3(HTTPProvider(node.url))  # web3.py defaults
        web3_pair = contract(w3, "UniswapV2Pair", pair)
        assert tuple(web3_pair.functions.getReserves().call()) == expected

        w3_cached = Web3(HTTPProvider(node.url, cache_allowed_requests=True))
        cached_pair = contract(w3_cached, "UniswapV2Pair", pair)

        def via_web3() -> int:
            web3_pair.functions.getReserves().call()
            return 1

        def via_web3_cached() -> int:
            cached_pair.functions.getReserves().call()
            return 1

        def via_web3_batch() -> int:
            with w3.batch_requests() as batch:
                for _ in range(args.batch):
                    batch.add(web3_pair.functions.getReserves())
                results = batch.execute()
            assert len(results) == args.batch and tuple(results[-1]) == expected
            return len(results)

        with RpcClient(node.url) as rpc:

            def lean() -> int:
                rpc.call("eth_call", [call, "latest"])
                return 1

            calls = [("eth_call", [call, "latest"])] * args.batch

            def batched() -> int:
                results = rpc.batch(calls)
                last = results[-1]
                assert len(results) == args.batch and isinstance(last, str)
                assert decode_result("UniswapV2Pair", "getReserves", last) == expected
                return len(results)

            figures = {
                "web3_default_calls_per_s": rate(via_web3, args.seconds),
                "web3_cached_chain_id_calls_per_s": rate(via_web3_cached, args.seconds),
                "lean_calls_per_s": rate(lean, args.seconds),
                f"web3_batch{args.batch}_calls_per_s": rate(via_web3_batch, args.seconds),
                f"lean_batch{args.batch}_calls_per_s": rate(batched, args.seconds),
            }
    ratios = {
        "lean_batch_vs_web3_batch": figures[f"lean_batch{args.batch}_calls_per_s"]
        / figures[f"web3_batch{args.batch}_calls_per_s"],
        "lean_vs_web3": figures["lean_calls_per_s"] / figures["web3_default_calls_per_s"],
    }
    for name, value in figures.items():
        print(f"{name:>36}: {value:10.0f}")
    print(
        json.dumps(
            {
                "benchmark": "rpc_calls",
                "figures": {k: round(v, 1) for k, v in figures.items()},
                "ratios": {k: round(v, 2) for k, v in ratios.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
