"""kill -9 a run mid-way, rerun the same command: it resumes after the last committed block
and ends with every block exactly once, no opportunity duplicated, the run finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

from workbench.store import block_rows, open_store, opportunity_rows, run_rows, simulation_rows

BLOCKS = 20
PER_BLOCK = 3

RUN = """
import sys, time
from workbench.store import *

url, last, per_block = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
spec = RunSpec(strategy="cyclic_arb", config={"min_profit": 1}, dataset_path="devnet",
               dataset_chain_id=31337, first_block=1, last_block=last)
sim = SimulationRecord(status="success", gas_used=1, profit=2**255, bid_paid=0, gas_cost=1,
                       screening_profit_matches=True)
outcome = OutcomeRecord(outcome="won", pnl_upper_bound=-(2**200), pnl_with_competition=-1)
with open_store(url) as store:
    run = store.start_or_resume_run(spec)
    print("start", run.id, store.next_block(run), flush=True)
    while (number := store.next_block(run)) is not None:
        opportunities = [
            OpportunityRecord(strategy="cyclic_arb", key=f"route-{i}", route=(),
                              amount_in=2**256 - 1 - i, expected_profit=2**255, min_profit=0,
                              gas_estimate=1, simulation=sim, outcome=outcome)
            for i in range(per_block)
        ]
        store.record_block(run, BlockRecord(number=number, tx_count=number), opportunities)
        print("committed", number, flush=True)
        time.sleep(0.01)
    store.finish_run(run)
    print("finished", flush=True)
"""


def command(url: str) -> list[str]:
    return [sys.executable, "-c", RUN, url, str(BLOCKS), str(PER_BLOCK)]


def test_a_killed_run_resumes_without_duplicates_or_gaps(db_url: str) -> None:
    child = subprocess.Popen(command(db_url), stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        seen = [child.stdout.readline().split() for _ in range(4)]
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
    assert seen[0][0] == "start" and [line[0] for line in seen[1:]] == ["committed"] * 3

    with open_store(db_url) as store:
        (run,) = run_rows(store)
        committed = [row["block_number"] for row in block_rows(store, run["id"])]
    assert run["status"] == "running"
    assert 3 <= len(committed) < BLOCKS and committed == list(range(1, len(committed) + 1))

    rerun = subprocess.run(command(db_url), capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    lines = rerun.stdout.split("\n")
    assert lines[0] == f"start {run['id']} {len(committed) + 1}"
    assert lines[-2] == "finished"

    with open_store(db_url) as store:
        (run,) = run_rows(store)
        blocks = [row["block_number"] for row in block_rows(store, run["id"])]
        opportunities = opportunity_rows(store, run["id"])
        simulations = simulation_rows(store, run["id"])
    assert run["status"] == "finished" and run["finished_at"] is not None
    assert blocks == list(range(1, BLOCKS + 1))
    keys = Counter((o["block_number"], o["key"]) for o in opportunities)
    assert len(keys) == BLOCKS * PER_BLOCK and set(keys.values()) == {1}
    assert len(simulations) == BLOCKS * PER_BLOCK
    assert {o["amount_in"] for o in opportunities} == {2**256 - 1 - i for i in range(PER_BLOCK)}
