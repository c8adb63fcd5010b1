"""`workbench tune` on the devnet default: the tuned parameters beat the constant-share
baseline on held-out blocks, the params file reproduces the tuned run, the report shows both,
and a study killed mid-trial continues where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from devnet import ensure_default_dataset
from workbench.cli import app
from workbench.engine.params import load_params, save_params
from workbench.engine.tune import TuneRequest, TuneResult, tune
from workbench.report.tables import eth
from workbench.report.tuning import write_tuning_report
from workbench.store import open_store

ROOT = Path(__file__).resolve().parents[3]
FIRST, LAST, TRIALS = 564, 663, 6


@pytest.fixture(scope="module")
def dataset() -> Path:
    return ensure_default_dataset()


@pytest.fixture(scope="module")
def tuned(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TuneResult, str]:
    db = f"sqlite:///{tmp_path_factory.mktemp('tune') / 'tune.db'}"
    req = TuneRequest(
        dataset=dataset,
        strategy="backrun_arb",
        first=FIRST,
        last=LAST,
        trials=TRIALS,
        seed=0,
        db_url=db,
    )
    return tune(req), db


def test_tuned_beats_the_constant_baseline_on_held_out_blocks(
    tuned: tuple[TuneResult, str],
) -> None:
    result, _ = tuned
    assert result.train == (FIRST, 633) and result.held_out == (634, LAST)
    complete = [t for t in result.trials if t.state == "complete"]
    assert len(complete) == TRIALS
    baseline = complete[0]  # trial 0 is the baseline config, on the same training blocks
    assert baseline.config["bid_policy"] == "constant" and baseline.config["bid_bps"] == 5_000
    assert baseline.net_pnl == result.train_baseline.net_pnl
    best = max(complete, key=lambda t: t.net_pnl or 0)
    assert dict(result.params.config) == dict(best.config)
    assert result.params.tuning["train"]["tuned_net_pnl_wei"] == str(best.net_pnl)
    # The point of tuning: better on blocks it never saw.
    assert result.held_out_tuned.net_pnl > result.held_out_baseline.net_pnl > 0
    assert result.held_out_tuned.opportunities > 0


def test_the_params_file_reproduces_the_tuned_run_and_the_report_shows_both(
    tuned: tuple[TuneResult, str], dataset: Path, tmp_path: Path
) -> None:
    result, db = tuned
    path = save_params(result.params, tmp_path / "params.json")
    params = load_params(path)
    assert params == result.params
    if params.config["bid_policy"] == "expected_net":
        assert params.inclusion is not None
    out = CliRunner().invoke(
        app,
        [
            "backtest",
            "--dataset",
            str(dataset),
            "--params",
            str(path),
            "--blocks",
            f"{result.held_out[0]}-{result.held_out[1]}",
            "--db",
            db,
        ],
        terminal_width=200,
    )
    assert out.exit_code == 0, out.output
    # The same config and model: the tuned held-out run itself, found and resumed.
    assert f"run {result.held_out_tuned_run}: backrun_arb" in out.output
    assert "(resumed)" in out.output
    with open_store(db) as store:
        page = write_tuning_report(store, result, tmp_path / "tuning.html").read_text()
    assert "Tuned vs baseline (held-out blocks)" in page and "Objective over trials" in page
    assert eth(result.held_out_tuned.net_pnl) in page
    assert eth(result.held_out_baseline.net_pnl) in page


def completed(db: Path) -> dict[int, float]:
    if not db.exists():
        return {}
    try:
        summaries = optuna.get_all_study_summaries(f"sqlite:///{db}")
    except Exception:  # the schema may be half-created by the tuner right now
        return {}
    out: dict[int, float] = {}
    for s in summaries:
        study = optuna.load_study(study_name=s.study_name, storage=f"sqlite:///{db}")
        for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
            assert t.value is not None
            out[t.number] = t.value
    return out


def test_a_killed_study_continues_where_it_stopped(dataset: Path, tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    cmd = [
        sys.executable,
        "-m",
        "workbench.cli",
        "tune",
        "--dataset",
        str(dataset),
        "--strategy",
        "cyclic_arb",
        "--blocks",
        "564-603",
        "--trials",
        "4",
        "--db",
        f"sqlite:///{db}",
        "--out",
        str(tmp_path / "params.json"),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len(completed(db)) < 2:
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-study: the next trial's backtest is running
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = completed(db)
    assert 2 <= len(before) < 4, f"killed after {len(before)} trials"
    finished = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    after = completed(db)
    assert len(after) >= 4
    assert all(after[n] == v for n, v in before.items())  # kept, not rerun
    assert load_params(tmp_path / "params.json").strategy == "cyclic_arb"
