"""Latency of the live runner on the devnet, against the same pipeline written with web3.py:
from a pending transaction's arrival to its backrun bundle's hand-off to the relay.

Each side has a ``workbench devnet up`` of its own, from the same block, replaying the devnet
default's recorded flow on a wall clock with its builder relay, in a process of its own: the
node, the builder and the relay stand in for other machines, so they run on the upper half of
this machine's CPUs and the side under test (with its Anvil fork) on the lower half. The relay
takes and records every bundle but includes none (``--no-include-bundles``), so both sides see
the recorded chain and the same pending transactions, and must make the same decisions.

- Runner: ``LiveEngine`` in live mode (``backrun_arb``, a funded searcher, an in-memory key).
  A pending transaction is stamped when its WebSocket notification is read (on the watcher's
  thread); the latency of each submitted backrun is read from the store.
- web3.py (``web3_live.py``): AsyncWeb3 subscriptions, the pending chain on an Anvil fork read
  by ``eth_call``, the same strategy object, ``estimate_gas``, eth-account signing and an
  ``eth_sendBundle`` POST. It sends every intent that passes its check; the runner one bundle
  per block at a time (a better one replaces it), so its samples are the fewer.

The first two slots of each side are left out (transactions that arrived while it started).
The run fails unless both sides found the same backruns (target block, route, pending
transaction, input) over the blocks both measured, or when a side submitted fewer than
``--min-samples`` backruns. Prints, as its last line:
{"benchmark": "live_latency", "figures": {"runner_p99_ms": ..., "web3_p99_ms": ..., ...},
 "ratios": {"runner_vs_web3_p99": X, "budget_330ms_over_p99": Y}}
Target: runner p99 <= 25 ms on a 2-core machine.
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
from percentiles import percentile
from web3_live import run_web3_pipeline

from devnet import ensure_default_dataset
from live.engine import LiveEngine
from live.nonces import NonceManager
from live.relays import FanOut, FlashbotsRelay
from live.risk import RiskLimits, RiskManager
from live.signer import SearcherIdentity
from live.submit import BundleSender
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.bootstrap import execution_config
from workbench.engine.searcher import Searcher
from workbench.strategy.api import create

BUDGET_MS = 330.0
FIRST = 570
WARM_UP_SLOTS = 2
_CPUS = sorted(os.sched_getaffinity(0))
# The devnet (node, builder, relay) stands in for other machines: it gets the upper half of
# this machine's CPUs and the side under test (with its Anvil) the lower half.
SIDE_CPUS = set(_CPUS[: len(_CPUS) // 2])
DEVNET_CPUS = set(_CPUS[len(_CPUS) // 2 :]) if SIDE_CPUS else set()
Found = set[tuple[int, str, int]]  # (target block, intent key, amount in)


@contextlib.contextmanager
def devnet_up(tmp: Path, searcher: str, block_time: float) -> Iterator[dict[str, Any]]:
    """``workbench devnet up --no-include-bundles`` in a process of its own, from block FIRST;
    its info (URLs, Executors, market file) while it runs. Stopped with SIGINT (killed if it
    lingers)."""
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
        "--no-include-bundles",
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


def run_runner(tmp: Path, until_block: int, block_time: float) -> dict[str, Any]:
    """The live runner until ``until_block``: its backruns found and submitted latencies."""
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
        asyncio.run(engine.run(until_block=until_block))
        sender.fanout.close()
        sender.nonces.close()
    assert engine.run_info is not None
    engine_db = sa.create_engine(db)
    with engine_db.connect() as c:
        rows = c.execute(
            sa.text(
                "select o.block_number, o.key, o.amount_in, a.action, a.latency_ms"
                " from opportunities o join live_actions a on a.opportunity_id = o.id"
                " where o.after_tx is not null"
            )
        ).all()
    engine_db.dispose()
    return {
        "first_head": engine.run_info.first_block - 1,
        "found": {(int(b), str(k), int(x)) for b, k, x, _, _ in rows},
        "latencies": [(int(b), float(ms)) for b, _, _, action, ms in rows if action == "submitted"],
        "status": engine.status(),
    }


def run_web3(tmp: Path, until_block: int, block_time: float) -> dict[str, Any]:
    """The web3.py pipeline until ``until_block`` (see web3_live.py)."""
    account, identity = Account.create(), Account.create()
    with devnet_up(tmp, account.address, block_time) as node:
        run = run_web3_pipeline(node, create("backrun_arb", {}), account, identity, until_block)
    return {
        "first_head": run.first_head,
        "found": run.found,
        "latencies": run.latencies,
        "estimate_failed": run.estimate_failed,
    }


def measured(side: dict[str, Any], first: int, last: int) -> tuple[Found, list[float]]:
    """A side's backruns and latencies for target blocks ``first..last``."""
    found = {f for f in side["found"] if first <= f[0] <= last}
    return found, [ms for block, ms in side["latencies"] if first <= block <= last]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=260, help="devnet blocks per side")
    parser.add_argument("--block-time", type=float, default=2.0, help="seconds per devnet block")
    parser.add_argument("--min-samples", type=int, default=100, help="submitted backruns per side")
    args = parser.parse_args()
    until = FIRST + args.blocks
    if SIDE_CPUS:
        os.sched_setaffinity(0, SIDE_CPUS)  # the Anvils, started later, inherit it
    with tempfile.TemporaryDirectory(prefix="live-latency-") as tmp:
        (Path(tmp) / "runner").mkdir()
        (Path(tmp) / "web3").mkdir()
        started = time.perf_counter()
        runner = run_runner(Path(tmp) / "runner", until, args.block_time)
        runner_s = time.perf_counter() - started
        web3 = run_web3(Path(tmp) / "web3", until, args.block_time)
    # both sides' blocks after their warm-up slots
    first = max(runner["first_head"], web3["first_head"]) + WARM_UP_SLOTS + 1
    ours, our_ms = measured(runner, first, until)
    theirs, their_ms = measured(web3, first, until)
    if ours != theirs:
        only = sorted(ours - theirs)[:10], sorted(theirs - ours)[:10]
        raise SystemExit(
            f"the two sides found different backruns in blocks {first}-{until}: "
            f"only the runner {only[0]}; only web3.py {only[1]}"
        )
    for name, samples in (("runner", our_ms), ("web3.py", their_ms)):
        if len(samples) < args.min_samples:
            raise SystemExit(
                f"{name} submitted {len(samples)} backruns (< {args.min_samples}): run more blocks"
            )
    figures: dict[str, float] = {"blocks": until - first + 1, "backruns_found": len(ours)}
    for name, samples in (("runner", our_ms), ("web3", their_ms)):
        figures |= {
            f"{name}_p50_ms": round(statistics.median(samples), 2),
            f"{name}_p90_ms": round(percentile(samples, 90), 2),
            f"{name}_p99_ms": round(percentile(samples, 99), 2),
            f"{name}_max_ms": round(max(samples), 2),
            f"{name}_submitted": len(samples),
        }
    status = runner["status"]
    figures |= {
        "runner_reforks": status["reforks"],
        "runner_skipped_events": sum(status["skipped"].values()),
        "runner_seconds": round(runner_s, 1),
        "web3_estimate_failed": web3["estimate_failed"],
        "side_cpus": len(SIDE_CPUS) or len(_CPUS),
    }
    ratios = {
        "runner_vs_web3_p99": round(figures["web3_p99_ms"] / figures["runner_p99_ms"], 2),
        "budget_330ms_over_p99": round(BUDGET_MS / figures["runner_p99_ms"], 2),
    }
    for key, value in {**figures, **ratios}.items():
        print(f"{key:>24}: {value}")
    print(json.dumps({"benchmark": "live_latency", "figures": figures, "ratios": ratios}))


if __name__ == "__main__":
    main()
