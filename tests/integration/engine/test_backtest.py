"""Backtest runs in the store: resume after kill -9, workers give identical rows, the CLI."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from devnet.config import DevnetConfig
from devnet.generator import generate
from workbench.cli import app
from workbench.engine.backtest import BacktestRequest, run_backtest
from workbench.sources.dataset import Dataset
from workbench.store import (
    RunChangedError,
    StoreError,
    block_rows,
    open_store,
    opportunity_rows,
    outcome_rows,
    run_rows,
    simulation_rows,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("devnet") / "short"
    generate(out, DevnetConfig(blocks=30))
    yield out


def contents(db: str, run_id: int = 1) -> dict[str, Any]:
    """A run's rows without ids and timestamps, to compare runs."""
    skip = {"id", "opportunity_id", "run_id", "processed_at", "created_at"}

    def clean(rows: list[dict[str, Any]]) -> list[str]:
        return sorted(repr(sorted((k, v) for k, v in r.items() if k not in skip)) for r in rows)

    with open_store(db) as store:
        return {
            "blocks": clean(block_rows(store, run_id)),
            "opportunities": clean(opportunity_rows(store, run_id)),
            "simulations": clean(simulation_rows(store, run_id)),
            "outcomes": clean(outcome_rows(store, run_id)),
        }


def test_workers_and_resume_give_identical_rows(devnet: Path, tmp_path: Path) -> None:
    one, two = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"
    req = BacktestRequest(
        dataset=devnet, strategy="backrun_arb", config={"min_net_profit": 0}, db_url=one
    )
    run = run_backtest(req)
    assert run.status == "finished"
    reference = contents(one)
    assert (
        reference["opportunities"]
        and len(reference["blocks"]) == run.last_block - run.first_block + 1
    )
    again = run_backtest(req)  # the same command again: resumed, nothing added
    assert again.resumed and again.id == run.id and contents(one) == reference
    run_backtest(BacktestRequest(**{**req.__dict__, "workers": 2, "db_url": two}))
    assert contents(two) == reference


def recorded(db: str) -> int:
    """Blocks committed so far for run 1 (0 before the run exists)."""
    with open_store(db) as store:
        try:
            return len(block_rows(store, 1))
        except StoreError:
            return 0


def test_kill_9_mid_run_then_rerun_resumes_without_duplicates(devnet: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'killed.db'}"
    clean_db = f"sqlite:///{tmp_path / 'clean.db'}"
    args = ["backtest", "--dataset", str(devnet), "--strategy", "backrun_arb", "--db"]
    cmd = [sys.executable, "-m", "workbench.cli", *args, db]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if (tmp_path / "killed.db").exists() and recorded(db) >= 5:
                break
        os.killpg(proc.pid, signal.SIGKILL)  # the process and its Anvil, mid-run
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    partial = recorded(db)
    assert 5 <= partial < 30, f"killed after {partial} blocks"
    finished = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "(resumed)" in finished.stdout
    seen = re.search(
        r"seen in the public mempool\D+([\d,]+) / ([\d,]+) transactions", finished.stdout
    )
    assert seen, finished.stdout
    assert 0 < int(seen[1].replace(",", "")) <= int(seen[2].replace(",", ""))
    subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args, clean_db],
        env=env,
        timeout=300,
        check=True,
        capture_output=True,
    )
    assert contents(db) == contents(clean_db)


def test_cli_errors_are_clean(devnet: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'e.db'}"
    for args, needle in (
        (["--blocks", "9-1"], "before its start"),
        (["--blocks", "x"], "A-B"),
        (["--blocks", "1-2"], "not replayable"),
        (["--strategy", "sandwich"], "unknown strategy"),
    ):
        result = runner.invoke(
            app, ["backtest", "--dataset", str(devnet), "--db", db, *args], terminal_width=300
        )
        assert (
            result.exit_code == 2 and needle in result.output and "Traceback" not in result.output
        ), result.output
    missing = runner.invoke(app, ["report", "42", "--db", db], terminal_width=300)
    assert missing.exit_code == 2 and "no run 42" in missing.output


def test_a_resume_on_changed_data_or_code_is_refused_unless_allowed(
    devnet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same command on a dataset regenerated at the same path (another seed), or on other
    code, would mix two computations in one run: refused, unless --allow-changed."""
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    regenerated = tmp_path / "short"
    generate(regenerated, DevnetConfig(blocks=30))
    req = BacktestRequest(
        dataset=regenerated, strategy="backrun_arb", config={}, db_url=db, first=570, last=573
    )
    first = run_backtest(req)
    shutil.rmtree(regenerated)
    generate(regenerated, DevnetConfig(blocks=30, seed=7))  # same path, other blocks
    with pytest.raises(RunChangedError, match=r"dataset: .* --allow-changed"):
        run_backtest(req)
    again = run_backtest(BacktestRequest(**{**req.__dict__, "allow_changed": True}))
    assert again.id == first.id and again.resumed
    monkeypatch.setattr("workbench.engine.backtest.code_version", lambda: "other code")
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--dataset",
            str(regenerated),
            "--strategy",
            "backrun_arb",
            "--blocks",
            "570-573",
            "--db",
            db,
        ],
    )
    assert (
        result.exit_code != 0 and "code: " in result.output and "--allow-changed" in result.output
    )
    with open_store(db) as store:
        (row,) = run_rows(store)
    assert row["notes"]["resumed_changed"][0].keys() == {"dataset"}
    assert row["notes"]["identity"]["dataset"] == (
        Dataset.open(regenerated).content_digest(570, 573)
    )
