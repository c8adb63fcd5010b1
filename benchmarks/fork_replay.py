"""Rolling fork replay vs one fresh fork per block, on the same recorded blocks of a real
chain's data path: the devnet default served as an archive node, its blocks ingested over
JSON-RPC into a fork-origin dataset.

- Rolling (the workbench): one Anvil forked through the fork proxy at the range's first
  block - 1, each recorded block mined on it as it happened (``engine.block_apply``: coinbase,
  base fee, gas limit, timestamp, the signed transactions in order) and its receipts checked.
- Fork per block (the baseline): for each block N, ``anvil --fork-url NODE
  --fork-block-number N-1`` started afresh, block N mined on it the same way, Anvil stopped.

Both sides must replay every transaction with the recorded receipt (status, gas, cumulative
gas, logs), hence identically. Figures: blocks/s and per-block p50/p99 ms of each side, and the
calls that reached the archive node per block: cold (the first rolling run), warm (a rerun on
the dataset's Foundry fork cache) and per fork. Prints, as its last line:
{"benchmark": "fork_replay", "figures": {...}, "ratios": {"rolling_vs_fork_per_block": X}}.
Target: X >= 5.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from percentiles import percentile

from devnet import ensure_default_dataset
from devnet.archive import archive_node
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.engine.block_apply import apply_block
from workbench.engine.replay_node import FORK_CACHE, ForkSource, replay_node
from workbench.rpc import RpcClient
from workbench.rpc.fork_proxy import ForkProxy
from workbench.sources.block_view import load_blocks
from workbench.sources.dataset import Dataset
from workbench.sources.ingest import ingest_blocks

FIRST = 570


def _side(
    start: float, per_block: list[float], matched: int, mismatched: int, calls: int
) -> dict[str, Any]:
    """One side's results: its time since ``start``, per-block ms, receipts and upstream calls."""
    return {
        "seconds": time.perf_counter() - start,
        "per_block_ms": per_block,
        "matched": matched,
        "mismatched": mismatched,
        "upstream_calls": calls,
    }


def rolling(dataset: Dataset, url: str, first: int, last: int) -> dict[str, Any]:
    fork = ForkSource(url=url)
    per_block, matched, mismatched = [], 0, 0
    start = time.perf_counter()
    with replay_node(dataset, fork=fork, at=first - 1) as node:
        for block in load_blocks(dataset, first, last):
            t = time.perf_counter()
            fidelity = apply_block(node, block)
            per_block.append(1000 * (time.perf_counter() - t))
            matched, mismatched = matched + fidelity.matched, mismatched + len(fidelity.mismatches)
    return _side(start, per_block, matched, mismatched, sum(fork.stats.calls.values()))


def fork_per_block(dataset: Dataset, url: str, first: int, last: int) -> dict[str, Any]:
    per_block, matched, mismatched, calls = [], 0, 0, 0
    start = time.perf_counter()
    for block in load_blocks(dataset, first, last):
        t = time.perf_counter()
        with ForkProxy(url) as proxy:  # the same route to the node as the rolling side
            config = AnvilConfig(
                fork_url=proxy.url,
                fork_block_number=block.number - 1,
                chain_id=dataset.chain_id,
                hardfork="prague",
                mining="none",
                order="fifo",
            )
            with Anvil(config) as node:
                fidelity = apply_block(node, block)
            calls += sum(proxy.stats.calls.values())
        per_block.append(1000 * (time.perf_counter() - t))
        matched, mismatched = matched + fidelity.matched, mismatched + len(fidelity.mismatches)
    return _side(start, per_block, matched, mismatched, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=120, help="blocks replayed (>= 100)")
    args = parser.parse_args()
    first, last = FIRST, FIRST + args.blocks - 1
    with (
        tempfile.TemporaryDirectory(prefix="bench-fork-") as tmp,
        archive_node(ensure_default_dataset(), last) as archive,
    ):
        root = Path(tmp) / "ingested"
        with RpcClient(archive.url) as rpc:
            ingest_blocks(rpc, root, first - 1, last)  # not timed
        dataset = Dataset.open(root)
        cold = rolling(dataset, archive.url, first, last)
        warm = rolling(dataset, archive.url, first, last)  # on the fork cache the first wrote
        shutil.rmtree(root / FORK_CACHE, ignore_errors=True)
        each = fork_per_block(dataset, archive.url, first, last)
    n = last - first + 1
    for side in (cold, warm, each):
        if side["mismatched"] or side["matched"] != cold["matched"]:
            raise SystemExit(f"the sides replayed differently: {side['mismatched']} mismatches")
    figures: dict[str, float] = {
        "blocks": n,
        "transactions": cold["matched"],
        "rolling_blocks_per_s": n / cold["seconds"],
        "rolling_block_p50_ms": statistics.median(cold["per_block_ms"]),
        "rolling_block_p99_ms": percentile(cold["per_block_ms"], 99),
        "rolling_warm_blocks_per_s": n / warm["seconds"],
        "fork_per_block_blocks_per_s": n / each["seconds"],
        "fork_per_block_p50_ms": statistics.median(each["per_block_ms"]),
        "fork_per_block_p99_ms": percentile(each["per_block_ms"], 99),
        "upstream_calls_per_block_cold": cold["upstream_calls"] / n,
        "upstream_calls_per_block_warm": warm["upstream_calls"] / n,
        "upstream_calls_per_block_fork_per_block": each["upstream_calls"] / n,
    }
    ratios = {"rolling_vs_fork_per_block": each["seconds"] / cold["seconds"]}
    for key, value in {**figures, **ratios}.items():
        print(f"{key:>40}: {value:12.3f}" if isinstance(value, float) else f"{key:>40}: {value}")
    print(
        json.dumps(
            {
                "benchmark": "fork_replay",
                "figures": {k: round(v, 3) for k, v in figures.items()},
                "ratios": {k: round(v, 1) for k, v in ratios.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
