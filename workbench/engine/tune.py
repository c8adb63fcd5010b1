"""Tuning: bid and slippage parameters (and a strategy's other tunable config fields) chosen by
running backtests, with optuna.

1. The block range splits into a training part and a held-out tail (``held_out_pct``).
2. Fit: the baseline config is backtested on the training blocks; the inclusion model is fitted
   on its opportunities (was each contested?) and on what winning searchers paid in those
   blocks (``scoring.payments``). It is stored with the study, so a resumed study keeps it.
3. Trials: optuna's TPE sampler (seeded) proposes values for every tunable field; each trial is
   a backtest of the training blocks, scored by its net PnL with competition.
4. Held out: the best trial's config and the baseline are both backtested on the held-out
   blocks; both summaries go into the params file and the report.

Everything is resumable: the study lives in an optuna storage (by default the store's own
database), each backtest is a resumable store run, and a trial whose process died (its
heartbeat stopped for ``GRACE_S``) is failed and retried with the same parameters, so its
backtest continues where it stopped. Several ``workbench tune`` processes given the same
storage URL (PostgreSQL) work on one study together.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.engine.backtest import BacktestRequest, OnBlock, block_range, run_backtest
from workbench.engine.params import Params, config_of
from workbench.engine.replay import load_market
from workbench.errors import ConfigError
from workbench.report.run_report import report_inputs
from workbench.rpc.redact import redact_url
from workbench.scoring.inclusion import InclusionModel, Sample
from workbench.scoring.metrics import ETH, OpportunityRow, Summary, summarize
from workbench.scoring.payments import searcher_payments
from workbench.store import open_store
from workbench.store.db import database_url
from workbench.strategy.api import config_type

OBJECTIVE = "net PnL with competition on the training blocks (ETH)"
MODEL_ATTR = "inclusion_model"
STEPS = 100  # an integer range is searched on about this many steps
HEARTBEAT_S, GRACE_S = 5, 20


@dataclass(frozen=True)
class TuneRequest:
    dataset: Path
    strategy: str
    config: Mapping[str, Any] = field(default_factory=dict)  # the baseline (constant bid)
    first: int | None = None
    last: int | None = None
    trials: int = 20
    held_out_pct: int = 30
    seed: int = 0
    storage: str | None = None  # optuna storage URL (default: the store's database)
    study: str | None = None  # default: derived from everything above but ``trials``
    workers: int = 1
    db_url: str | None = None

    def backtest(
        self, config: Mapping[str, Any], blocks: tuple[int | None, int | None], **kw: Any
    ) -> BacktestRequest:
        return BacktestRequest(
            dataset=self.dataset,
            strategy=self.strategy,
            config=config,
            first=blocks[0],
            last=blocks[1],
            workers=self.workers,
            db_url=self.db_url,
            **kw,
        )


@dataclass(frozen=True, slots=True)
class TrialRow:
    number: int
    state: str
    value: float | None  # the objective (ETH), None unless complete
    net_pnl: int | None  # the same, exact wei
    config: Mapping[str, Any]


@dataclass(frozen=True)
class TuneResult:
    params: Params
    study: str
    train: tuple[int, int]
    held_out: tuple[int, int]
    trials: list[TrialRow]
    train_baseline: Summary
    held_out_baseline: Summary
    held_out_tuned: Summary
    held_out_baseline_run: int
    held_out_tuned_run: int

    @property
    def strategy(self) -> str:
        return self.params.strategy

    @property
    def config(self) -> Mapping[str, Any]:
        return self.params.config


@dataclass
class Progress:
    """Callbacks for a progress display: a stage starts (with its block count), a block is
    done, a trial is done (with how many are done and wanted)."""

    stage: Callable[[str, int], None] = lambda description, blocks: None
    block: OnBlock | None = None
    trial: Callable[[int, int], None] = lambda done, wanted: None


def split(first: int, last: int, held_out_pct: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(training, held-out) block ranges; both non-empty."""
    if not 1 <= held_out_pct <= 90:
        raise ConfigError(f"--held-out must be between 1 and 90 percent, got {held_out_pct}")
    n = last - first + 1
    held = max(1, n * held_out_pct // 100)
    if n - held < 1:
        raise ConfigError(
            f"blocks {first}-{last} are too few to split into training and held-out parts"
        )
    return (first, last - held), (last - held + 1, last)


def search_space(strategy: str) -> dict[str, tuple[Any, ...]]:
    space = config_type(strategy).tunables()
    if not space:
        raise ConfigError(f"strategy {strategy!r} marks no config field tunable")
    return space


def nice_step(span: int) -> int:
    """About ``span / STEPS``, rounded down to 1, 2 or 5 times a power of ten."""
    raw = max(1, span // STEPS)
    power = 10 ** (len(str(raw)) - 1)  # exact (math.log10 rounds near powers of ten)
    return max(m * power for m in (1, 2, 5) if m * power <= raw)


def suggest(trial: Any, space: Mapping[str, tuple[Any, ...]]) -> dict[str, Any]:
    """A config fragment for ``trial``: a choice, or an integer range: on a log scale when it
    spans three decades or more above zero, else on about ``STEPS`` round steps."""
    out: dict[str, Any] = {}
    for name, spec in space.items():
        if len(spec) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
            low, high = spec
            if low > 0 and high >= 1000 * low:
                out[name] = trial.suggest_int(name, low, high, log=True)
                continue
            step = nice_step(high - low)
            out[name] = trial.suggest_int(name, low, low + (high - low) // step * step, step=step)
        else:
            out[name] = trial.suggest_categorical(name, list(spec))
    return out


def study_name(req: TuneRequest, train: tuple[int, int], held: tuple[int, int]) -> str:
    if req.study:
        return req.study
    identity = json.dumps(
        [req.strategy, str(req.dataset.resolve()), dict(req.config), train, held, req.seed],
        sort_keys=True,
        default=str,
    )
    return (
        f"{req.strategy}-{train[0]}-{held[1]}-{hashlib.sha256(identity.encode()).hexdigest()[:10]}"
    )


def rows_of(db_url: str | None, run_id: int) -> list[OpportunityRow]:
    with open_store(db_url) as store:
        return report_inputs(store, run_id)[1]


def fit_inclusion(
    req: TuneRequest, rows: list[OpportunityRow], train: tuple[int, int], weth: str
) -> InclusionModel:
    """The inclusion model from the baseline's training opportunities and the payments of
    the winning searchers in the training blocks."""
    from workbench.sources.dataset import Dataset

    samples = [
        Sample(r.profit, r.parent_fullness_bps or 0, r.competitor_paid is not None)
        for r in rows
        if r.sim_status == "success" and r.profit > 0
    ]
    payments = searcher_payments(Dataset.open(req.dataset), train[0], train[1], weth)
    return InclusionModel.fit(samples, [p.share_bps for p in payments])


def tune(req: TuneRequest, progress: Progress | None = None) -> TuneResult:
    import optuna

    progress = progress or Progress()
    if req.trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {req.trials}")
    baseline = config_of(Params(req.strategy, req.config))
    if baseline.get("bid_policy", "constant") != "constant":
        raise ConfigError("the baseline config must use the constant bid policy")
    first, last = block_range(req.backtest(baseline, (req.first, req.last)))
    train, held = split(first, last, req.held_out_pct)
    space = search_space(req.strategy)

    def backtest(
        config: Mapping[str, Any],
        blocks: tuple[int, int],
        stage: str,
        inclusion: InclusionModel | None = None,
    ) -> tuple[int, list[OpportunityRow]]:
        progress.stage(stage, blocks[1] - blocks[0] + 1)
        needs_model = config.get("bid_policy") == "expected_net"
        run = run_backtest(
            req.backtest(config, blocks, inclusion=inclusion if needs_model else None),
            on_block=progress.block,
        )
        return run.id, rows_of(req.db_url, run.id)

    _, train_rows = backtest(baseline, train, "fit: baseline on the training blocks")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = database_url(req.storage or req.db_url)
    with warnings.catch_warnings():  # heartbeats are "experimental" in optuna 5
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.RDBStorage(
            url,
            engine_kwargs={"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {},
            heartbeat_interval=HEARTBEAT_S,
            grace_period=GRACE_S,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=3
            ),
        )
    name = study_name(req, train, held)
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(
            seed=req.seed, n_startup_trials=max(2, min(10, req.trials // 3))
        ),
        load_if_exists=True,
    )
    if MODEL_ATTR in study.user_attrs:
        model = InclusionModel.from_json(study.user_attrs[MODEL_ATTR])
    else:
        weth = load_market(req.dataset).weth
        model = fit_inclusion(req, train_rows, train, weth)
        study.set_user_attr(MODEL_ATTR, model.to_json())
        study.set_user_attr("baseline", baseline)
        study.enqueue_trial({k: baseline[k] for k in space if k in baseline})  # trial 0

    def objective(trial: Any) -> float:
        config = {**baseline, **suggest(trial, space)}
        run_id, rows = backtest(config, train, f"trial {trial.number}", model)
        net = summarize(rows).net_pnl
        trial.set_user_attr("net_pnl_wei", str(net))
        trial.set_user_attr("run_id", run_id)
        return net / ETH

    def done(study: Any, _trial: Any) -> None:
        progress.trial(_complete(study, optuna), req.trials)

    remaining = req.trials - _complete(study, optuna)
    progress.trial(_complete(study, optuna), req.trials)
    if remaining > 0:
        with warnings.catch_warnings():  # TPE's numerics warn on tiny studies; harmless
            warnings.simplefilter("ignore", RuntimeWarning)
            study.optimize(objective, n_trials=remaining, callbacks=[done], catch=())
    best = study.best_trial
    tuned = {**baseline, **best.params}
    base_run, base_rows = backtest(baseline, held, "held out: baseline")
    tuned_run, tuned_rows = backtest(tuned, held, "held out: tuned", model)
    trials = [
        TrialRow(
            t.number,
            t.state.name.lower(),
            t.value,
            int(t.user_attrs["net_pnl_wei"]) if "net_pnl_wei" in t.user_attrs else None,
            {**baseline, **t.params},
        )
        for t in study.get_trials(deepcopy=False)
    ]
    train_base, held_base, held_tuned = (
        summarize(train_rows),
        summarize(base_rows),
        summarize(tuned_rows),
    )
    params = Params(
        strategy=req.strategy,
        config=tuned,
        inclusion=model if tuned.get("bid_policy") == "expected_net" else None,
        tuning={
            "dataset": str(req.dataset.resolve()),
            "study": name,
            "storage": redact_url(url),
            "objective": OBJECTIVE,
            "seed": req.seed,
            "trials": len([t for t in trials if t.state == "complete"]),
            "train_blocks": list(train),
            "held_out_blocks": list(held),
            "train": {
                "baseline_net_pnl_wei": str(train_base.net_pnl),
                "tuned_net_pnl_wei": best.user_attrs["net_pnl_wei"],
            },
            "held_out": {
                "baseline": _plain(held_base),
                "tuned": _plain(held_tuned),
                "baseline_run": base_run,
                "tuned_run": tuned_run,
            },
        },
    )
    return TuneResult(
        params=params,
        study=name,
        train=train,
        held_out=held,
        trials=trials,
        train_baseline=train_base,
        held_out_baseline=held_base,
        held_out_tuned=held_tuned,
        held_out_baseline_run=base_run,
        held_out_tuned_run=tuned_run,
    )


def _plain(summary: Summary) -> dict[str, Any]:
    """A summary as exact JSON: wei amounts as decimal strings (JSON readers lose big ints)."""
    return {k: str(v) if k.endswith("_wei") else v for k, v in summary.as_dict().items()}


def _complete(study: Any, optuna: Any) -> int:
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


__all__ = ["Progress", "TrialRow", "TuneRequest", "TuneResult", "split", "tune"]
