"""Latency of the live runner on the devnet: from a pending transaction's arrival (its
WebSocket notification read, on the watcher's thread) to its backrun bundle's submission (the
moment the bundle goes to the relay).

One run: ``workbench devnet up`` replays the devnet default's recorded flow on a wall clock
with its builder relay, in a process of its own: the node, the builder and the relay stand
in for other machines, so they run on the upper half of this machine's CPUs and the runner
(with its follower Anvil) on the lower half (in one process, their Python threads would also
share the runner's interpreter lock). The live runner (``backrun_arb``, live mode, a funded searcher, a
keystore-less in-memory key) watches it over WebSocket and sends bundles. Every submitted
backrun's latency is read from the store (``live_actions.latency_ms``), except in the first
two slots, whose transactions arrived while the runner was still starting (forking the node,
reading the pools, warming the fork's caches on the first block). The baseline is the 330 ms
budget of a pending transaction's useful life before a block (a 12 s slot's builder cut-off,
minus the time the transaction spends reaching us); the ratio is that budget over our p99.
Prints, as its last line:
{"benchmark": "live_latency", "figures": {"p50_ms": ..., "p99_ms": ..., ...},
 "ratios": {"budget_330ms_over_p99": X}}
Target (issue 7): p99 <= 25 ms, i.e. X >= 13.2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from eth_account import Account

from live.engine import LiveEngine, Searcher, execution_config
from live.nonces import NonceManager
from live.relays import FanOut, FlashbotsRelay
from live.risk import RiskLimits, RiskManager
from live.signer import SearcherIdentity
from live.submit import BundleSender
from workbench.chain.market_spec import DeployedMarket
from workbench.sources.devnet import ensure_default_dataset
from workbench.strategy.api import create

BUDGET_MS = 330.0
FIRST = 600
_CPUS = sorted(os.sched_getaffinity(0))
# The devnet (node, builder, relay) stands in for other machines: it gets the upper half of
# this machine's CPUs and the runner (with its follower Anvil) the lower half.
RUNNER_CPUS = set(_CPUS[: len(_CPUS) // 2])
DEVNET_CPUS = set(_CPUS[len(_CPUS) // 2 :]) if RUNNER_CPUS else set()


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (an observed value)."""
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, round(q / 100 * len(ranked) + 0.5) - 1))]


@contextlib.contextmanager
def devnet_up(tmp: Path, searcher: str, block_time: float) -> Iterator[dict[str, Any]]:
    """``workbench devnet up`` in a process of its own, from block FIRST; its info (URLs,
    Executors, market file) while it runs. Stopped with SIGINT (killed if it lingers)."""
    info_path, log_path = tmp / "devnet-up.json", tmp / "devnet-up.log"
    command = [
        str(Path(sys.executable).with_name("workbench")),
        "devnet",
        "up",
        "--dataset",
        str(ensure_default_dataset()),
        "--block-time",
        f"{block_time:g}",
        "--from-block",
        str(FIRST),
        "--searcher",
        searcher,
        "--info",
        str(info_path),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.sched_setaffinity(0, DEVNET_CPUS) if DEVNET_CPUS else None,
        )
        try:
            deadline = time.monotonic() + 300
            while not info_path.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise SystemExit(f"`workbench devnet up` did not start:\n{tail}")
                time.sleep(0.1)
            yield json.loads(info_path.read_text())
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run(blocks: int, block_time: float) -> dict[str, object]:
    if RUNNER_CPUS:
        os.sched_setaffinity(0, RUNNER_CPUS)  # the follower Anvil, started later, inherits it
    tmp = Path(tempfile.mkdtemp(prefix="live-latency-"))
    db = f"sqlite:///{tmp / 'runs.db'}"
    account = Account.create()
    with devnet_up(tmp, account.address, block_time) as node:
        market = DeployedMarket.load(Path(node["market_file"]))
        executor = node["executors"][account.address]
        relay = FlashbotsRelay(node["relay_url"], SearcherIdentity(Account.create()), name="devnet")
        sender = BundleSender(
            account,
            execution_config(market, node["chain_id"], executor),
            NonceManager(tmp, node["chain_id"], account.address),
            FanOut([relay]),
        )
        engine = LiveEngine(
            strategy=create("backrun_arb", {}),
            strategy_name="backrun_arb",
            config={},
            rpc_url=node["rpc_url"],
            ws_url=node["ws_url"],
            market=market,
            risk=RiskManager(RiskLimits(capital_cap=50 * 10**18, base_token=market.weth)),
            mode="live",
            searcher=Searcher(account, executor),
            sender=sender,
            db_url=db,
        )
        started = time.perf_counter()
        asyncio.run(engine.run(until_block=FIRST + blocks))
        seconds = time.perf_counter() - started
        sender.fanout.close()
        sender.nonces.close()
    engine_db = sa.create_engine(db)
    with engine_db.connect() as c:
        latencies = [
            float(r[0])
            for r in c.execute(
                sa.text(
                    "select a.latency_ms from live_actions a join opportunities o"
                    " on o.id = a.opportunity_id"
                    " where a.action = 'submitted' and o.after_tx is not null"
                    " and o.block_number > :warm_up"
                ),
                {"warm_up": engine.run_info.first_block + 1 if engine.run_info else 0},
            )
        ]
    engine_db.dispose()
    if len(latencies) < 10:
        raise SystemExit(f"only {len(latencies)} backruns were submitted; run more blocks")
    status = engine.status()
    p50, p99 = statistics.median(latencies), percentile(latencies, 99)
    return {
        "benchmark": "live_latency",
        "figures": {
            "p50_ms": round(p50, 2),
            "p90_ms": round(percentile(latencies, 90), 2),
            "p99_ms": round(p99, 2),
            "max_ms": round(max(latencies), 2),
            "submitted_backruns": len(latencies),
            "landed": status["landed"],
            "blocks": status["blocks"],
            "reforks": status["reforks"],
            "runner_cpus": len(RUNNER_CPUS) or len(_CPUS),
            "seconds": round(seconds, 1),
        },
        "ratios": {"budget_330ms_over_p99": round(BUDGET_MS / p99, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=40, help="devnet blocks to run (default 40)")
    parser.add_argument("--block-time", type=float, default=2.0, help="seconds per devnet block")
    args = parser.parse_args()
    print(json.dumps(run(args.blocks, args.block_time)))


if __name__ == "__main__":
    main()
