"""`make backtest`'s engine vs the web3.py script a researcher would write for the same job, on
the same devnet blocks (all 300 of the devnet default by default), in one run.

Engine: ``run_backtest`` with ``cyclic_arb`` on a throwaway SQLite store (what `make backtest`
runs, without the HTML report): one Anvil from the genesis state, pools seeded once and then
followed from the dataset's logs, exact local AMM math for screening and sizing, EVM
simulation of each intent, the recorded block applied and its receipts checked.

Web3.py script (``web3_script.py``): one Anvil from the same genesis state rolled forward, each
recorded block applied with ``send_raw_transaction`` and ``evm_mine``; for each block, the
cycles (2 and 3 hops through WETH) whose pools the parent block moved are quoted through
QuoterV2 / Router02 / the pair's ``getReserves`` by ``eth_call`` (one call per hop), sized by
doubling then golden section on those quotes, and chosen with ``cyclic_arb``'s own cost
model and choice rule (gas per hop, the constant bid, the minimum net profit, pool-disjoint,
best net first).

Both sides are timed from the request (Anvil start and genesis load included) to the last
block. The run fails unless both choose the same opportunities: the same cycles in the same
blocks, at sizes whose profits are equal within the quotes' rounding (see ``agree``).

Prints a table, then as its last line:
{"benchmark": "backtest", "figures": {...}, "ratios": {"engine_vs_web3_script": X}}.
Target: X >= 20.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from percentiles import percentile
from web3_script import Chosen, run_web3_script

import workbench.strategy.builtin  # noqa: F401  (registers cyclic_arb)
from devnet import ensure_default_dataset, load_info
from workbench.engine.backtest import BacktestRequest, run_backtest
from workbench.engine.loop import BlockResult
from workbench.market.sizing import hop_outputs
from workbench.sources.dataset import Dataset
from workbench.strategy.builtin.cyclic_arb import CyclicArbConfig
from workbench.strategy.intents import ArbIntent

STRATEGY = "cyclic_arb"
PROFIT_PPM = 1
"""Profits agree within a millionth (the sizing tests' tolerance), 64 wei, or the quotes'
rounding: twice what one unit of each intermediate token is worth in WETH at the engine's
size (``rounding``). Each hop's output is floored to whole units, so near its peak a cycle's
profit is a step function that much coarse (a unit of an 8-decimals token is worth ~1e11 wei)."""
# Sizes are compared by what they earn: near its peak a cycle's profit is flat and stepped,
# so two searches can stop far apart (seen: 2,593 ppm) at profits equal within the rounding;
# the largest size difference is printed as a figure, not required to be small.


def hwm_mb(pid: int | str = "self") -> float:
    """A process's peak resident set (VmHWM) in MB; 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) / 1024


def reset_hwm() -> None:
    """Restarts this process's VmHWM at its current RSS (Linux clear_refs 5)."""
    with contextlib.suppress(OSError):  # else the figure is the process's lifetime peak
        Path("/proc/self/clear_refs").write_text("5")


def children() -> list[int]:
    """The pids of this process's children (the Anvils)."""
    me, pids = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                pids.append(int(entry.name))
    return pids


def run_engine(root: Path, first: int, last: int) -> dict[str, Any]:
    reset_hwm()
    stamps: list[float] = []
    chosen: dict[int, list[Chosen]] = {}
    intents: list[tuple[int, ArbIntent]] = []
    anvil_mb = 0.0

    def on_block(result: BlockResult) -> None:
        nonlocal anvil_mb
        stamps.append(time.perf_counter())
        chosen[result.number] = [
            Chosen(o.intent.cycle.id, o.intent.amount_in, o.intent.expected_profit)
            for o in result.opportunities
        ]
        intents.extend((result.number, o.intent) for o in result.opportunities)
        if result.number == last:  # the replay's Anvil is still running
            anvil_mb = sum(hwm_mb(p) for p in children())

    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as tmp:
        req = BacktestRequest(
            dataset=root,
            strategy=STRATEGY,
            config={},
            first=first,
            last=last,
            db_url=f"sqlite:///{Path(tmp) / 'runs.db'}",
        )
        start = time.perf_counter()
        run_backtest(req, on_block=on_block)
        seconds = time.perf_counter() - start
    n = last - first + 1
    assert len(stamps) == n, f"{len(stamps)} blocks replayed, {n} asked for"
    rounding = {  # what one unit of each intermediate token is worth, twice (see PROFIT_PPM)
        (number, i.cycle.id): 2
        * sum(-(-i.amount_in // out) for out in hop_outputs(i.cycle, i.amount_in)[:-1])
        for number, i in intents
    }
    return {
        "seconds": seconds,
        "per_block_ms": [1000 * (b - a) for a, b in itertools.pairwise(stamps)],
        "first_block_s": stamps[0] - start,
        "chosen": chosen,
        "rounding": rounding,
        "peak_rss_mb": hwm_mb() + anvil_mb,
    }


def agree(
    engine: dict[int, list[Chosen]],
    script: dict[int, list[Chosen]],
    rounding: dict[tuple[int, str], int],
) -> tuple[list[str], dict[str, float]]:
    """The disagreements (empty when both chose the same cycles in the same blocks, at sizes
    whose profits are within the tolerance above) and the largest differences seen."""
    problems: list[str] = []
    worst = {"max_amount_in_diff_ppm": 0.0, "max_profit_diff_wei": 0.0}
    for number in sorted(engine.keys() | script.keys()):
        ours = {c.cycle: c for c in engine.get(number, [])}
        theirs = {c.cycle: c for c in script.get(number, [])}
        for cycle in ours.keys() ^ theirs.keys():
            side = "the engine" if cycle in ours else "the web3.py script"
            problems.append(f"block {number}: only {side} chose {cycle}")
        for cycle in ours.keys() & theirs.keys():
            a, b = ours[cycle], theirs[cycle]
            d_amount, d_profit = abs(a.amount_in - b.amount_in), abs(a.profit - b.profit)
            worst["max_amount_in_diff_ppm"] = max(
                worst["max_amount_in_diff_ppm"], 1e6 * d_amount / a.amount_in
            )
            worst["max_profit_diff_wei"] = max(worst["max_profit_diff_wei"], d_profit)
            tolerance = max(64, a.profit * PROFIT_PPM // 10**6, rounding[(number, cycle)])
            if d_profit > tolerance:
                problems.append(f"block {number}, {cycle}: engine {a}, web3.py script {b}")
    return problems, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=300, help="the first N devnet blocks")
    args = parser.parse_args()
    root = ensure_default_dataset()  # not timed: builds it (~45 s) only if missing or stale
    genesis = int(load_info(root)["genesis"]["block_number"])
    held = Dataset.open(root).block_range
    assert held is not None
    first, last = genesis + 1, min(held[1], genesis + args.blocks)
    n = last - first + 1

    engine = run_engine(root, first, last)
    script = run_web3_script(root, first, last, CyclicArbConfig())
    problems, worst = agree(engine["chosen"], script["chosen"], engine["rounding"])
    if problems:
        listed = "\n  ".join(problems[:20])
        raise SystemExit(f"the two sides chose differently ({len(problems)}):\n  {listed}")

    figures: dict[str, float] = {
        "blocks": n,
        "opportunities_chosen": sum(len(v) for v in engine["chosen"].values()),
        "engine_blocks_per_s": n / engine["seconds"],
        "engine_seconds": engine["seconds"],
        "engine_first_block_s": engine["first_block_s"],
        "engine_block_p50_ms": statistics.median(engine["per_block_ms"]),
        "engine_block_p99_ms": percentile(engine["per_block_ms"], 99),
        "engine_peak_rss_mb": engine["peak_rss_mb"],
        "web3_blocks_per_s": n / script["seconds"],
        "web3_seconds": script["seconds"],
        "web3_block_p50_ms": statistics.median(script["per_block_ms"]),
        "web3_block_p99_ms": percentile(script["per_block_ms"], 99),
        "web3_eth_calls_per_block": script["calls"] / n,
        "web3_cycles": script["cycles"],
        **worst,
    }
    ratios = {"engine_vs_web3_script": script["seconds"] / engine["seconds"]}
    for key, value in {**figures, **ratios}.items():
        print(f"{key:>28}: {value:12.3f}" if isinstance(value, float) else f"{key:>28}: {value:12}")
    print(
        json.dumps(
            {
                "benchmark": "backtest",
                "figures": {
                    k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()
                },
                "ratios": {k: round(v, 1) for k, v in ratios.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
