"""Blocks per second ingested from a local Anvil chain (a Uniswap V2 market, a few transfers
and swaps per block) by the batched ingest vs the web3.py script a user would write for the
same rows: per block ``get_block(n, full_transactions=True)`` and ``get_block_receipts(n)``
(two requests a block; raw bytes re-encoded locally, which costs it no request). Both sides
run ``--repeat`` times (median), each into a fresh dataset, and write the same dataset,
checked equal. Prints, as its last line:
{"benchmark": "ingest", "figures": {...}, "ratios": {"batched_vs_web3": X}}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.providers import HTTPProvider

from workbench.chain.abi import encode_call
from workbench.chain.anvil import Anvil
from workbench.chain.deploy import deploy_market
from workbench.chain.market_spec import MarketSpec, TokenSpec, V2DexSpec, V2PairSpec
from workbench.rpc import RpcClient
from workbench.sources.dataset import Dataset
from workbench.sources.ingest import ingest_blocks
from workbench.sources.raw_tx import verified_raw
from workbench.sources.rpc_convert import block_row, frame, log_rows, receipt_row, transaction_row
from workbench.sources.schema import BLOCK_TABLES

SPEC = MarketSpec(
    tokens=(TokenSpec(symbol="TKA"),),
    v2_dexes=(V2DexSpec(name="uniswap"),),
    v2_pairs=(
        V2PairSpec(
            dex="uniswap", token_a="WETH", token_b="TKA", reserve_a=10**21, reserve_b=2 * 10**24
        ),
    ),
    executor=False,
)
CHUNK = 100


def build_chain(node: Anvil, blocks: int) -> tuple[int, int]:
    """``blocks`` blocks of one transfer, one WETH deposit and one router swap each."""
    market = deploy_market(node.rpc, SPEC)
    accounts = node.rpc.call("eth_accounts")
    router, weth, tka = market.v2_routers["uniswap"], market.weth, market.token("TKA")
    swap = encode_call(
        "UniswapV2Router02", "swapExactETHForTokens", [0, [weth, tka], accounts[3], 2**40]
    )
    deposit = encode_call("WETH9", "deposit")
    txs = [
        {"from": accounts[1], "to": accounts[4], "value": hex(10**15), "gas": hex(21_000)},
        {
            "from": accounts[2],
            "to": weth,
            "value": hex(10**16),
            "data": "0x" + deposit.hex(),
            "gas": hex(60_000),
        },
        {
            "from": accounts[3],
            "to": router,
            "value": hex(10**16),
            "data": "0x" + swap.hex(),
            "gas": hex(200_000),
        },
    ]
    first = node.block_number() + 1
    node.set_automine(False)
    for _ in range(blocks):
        node.rpc.batch([("eth_sendTransaction", [tx]) for tx in txs])
        node.mine()
    node.set_automine(True)
    return first, node.block_number()


def via_web3(url: str, out: Path, first: int, last: int) -> None:
    """The baseline: web3.py, a block and its receipts per block, rows built by the same
    converters."""
    w3 = Web3(HTTPProvider(url))
    chain_id = w3.eth.chain_id
    ds = Dataset.create(out, chain_id=chain_id, source="rpc:" + url)
    for start in range(first, last + 1, CHUNK):
        end = min(start + CHUNK - 1, last)
        rows: dict[str, list[dict[str, Any]]] = {t: [] for t in BLOCK_TABLES}
        for n in range(start, end + 1):
            block = json.loads(Web3.to_json(w3.eth.get_block(n, full_transactions=True)))  # type: ignore[arg-type]
            receipts = json.loads(Web3.to_json(w3.eth.get_block_receipts(n)))  # type: ignore[arg-type]
            rows["blocks"].append(block_row(block))
            for tx, receipt in zip(block["transactions"], receipts, strict=True):
                rows["transactions"].append(transaction_row(tx, verified_raw(tx)))
                rows["receipts"].append(receipt_row(receipt))
                rows["logs"] += log_rows(receipt)
        ds.append_blocks(start, end, {t: frame(t, r) for t, r in rows.items()})


def batched(url: str, out: Path, first: int, last: int) -> None:
    with RpcClient(url) as rpc:
        ingest_blocks(rpc, out, first, last, chunk_blocks=CHUNK)


def seconds(
    fn: Callable[[str, Path, int, int], None],
    url: str,
    first: int,
    last: int,
    repeat: int,
    tmp: Path,
) -> tuple[float, Path]:
    """Median wall time of ``repeat`` runs, each into a fresh dataset."""
    times = []
    for i in range(repeat):
        out = tmp / f"{fn.__name__}-{i}"
        start = time.perf_counter()
        fn(url, out, first, last)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs per client (median)")
    args = parser.parse_args()

    with Anvil() as node, tempfile.TemporaryDirectory() as tmp:
        first, last = build_chain(node, args.blocks)
        n = last - first + 1
        batched(node.url, Path(tmp) / "warm-up", first, min(first + 9, last))
        web3_s, web3_out = seconds(via_web3, node.url, first, last, args.repeat, Path(tmp))
        batch_s, batch_out = seconds(batched, node.url, first, last, args.repeat, Path(tmp))
        a, b = Dataset.open(batch_out), Dataset.open(web3_out)
        for t in BLOCK_TABLES:
            assert a.read(t).equals(b.read(t)), f"{t} differs between the two clients"
        txs = a.rows("transactions")
        logs = a.rows("logs")
    figures = {
        "blocks": n,
        "transactions": txs,
        "logs": logs,
        "batched_blocks_per_s": n / batch_s,
        "web3_blocks_per_s": n / web3_s,
    }
    for name, value in figures.items():
        print(f"{name:>24}: {value:10.1f}")
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "figures": {k: round(v, 1) for k, v in figures.items()},
                "ratios": {"batched_vs_web3": round(web3_s / batch_s, 2)},
            }
        )
    )


if __name__ == "__main__":
    main()
