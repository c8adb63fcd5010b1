"""The tuning report: the held-out run of the tuned parameters (the usual run report), plus a
section comparing tuned and baseline on the held-out blocks (net PnL, hit rate, revert rates,
bid paid) and a plotly figure of the objective over the trials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import plotly.graph_objects as go

from workbench.report import figures, tables
from workbench.report.html import write_report
from workbench.report.run_report import report_inputs
from workbench.scoring.metrics import Summary
from workbench.store import Store

COMPARED = (
    ("Net PnL with competition", "net_pnl_wei"),
    ("Net PnL upper bound", "net_pnl_upper_bound_wei"),
    ("Bids paid (won)", "bids_wei"),
    ("Gas (won)", "gas_wei"),
    ("Opportunities", "opportunities"),
    ("Won", "won"),
    ("Hit rate", "hit_rate"),
    ("Revert rate (EVM, at the modelled position)", "revert_rate"),
    ("Revert rate predicted (following pending txs)", "predicted_revert_rate"),
    ("Revert rate realised at the next block", "next_block_revert_rate"),
)


class TuningTrial(Protocol):
    """One trial of a study, as the report shows it."""

    @property
    def number(self) -> int: ...
    @property
    def value(self) -> float | None: ...  # the objective (ETH), None unless complete
    @property
    def net_pnl(self) -> int | None: ...


class Tuning(Protocol):
    """What a tuning run found (``workbench.engine.tune.TuneResult`` has it)."""

    @property
    def strategy(self) -> str: ...
    @property
    def config(self) -> Mapping[str, Any]: ...
    @property
    def study(self) -> str: ...
    @property
    def train(self) -> tuple[int, int]: ...
    @property
    def held_out(self) -> tuple[int, int]: ...
    @property
    def trials(self) -> Sequence[TuningTrial]: ...
    @property
    def held_out_baseline(self) -> Summary: ...
    @property
    def held_out_tuned(self) -> Summary: ...
    @property
    def held_out_baseline_run(self) -> int: ...
    @property
    def held_out_tuned_run(self) -> int: ...


def _cell(key: str, value: int | float) -> str:
    if key.endswith("_wei"):
        return f"{tables.amount(int(value))} ETH"
    if key.endswith("_rate"):
        return tables.percent(float(value))
    return f"{value:,}"


def comparison_table(tuned: Summary, baseline: Summary) -> str:
    t, b = tuned.as_dict(), baseline.as_dict()
    rows = [(label, _cell(key, t[key]), _cell(key, b[key])) for label, key in COMPARED]
    return tables.table(("Held-out blocks", "Tuned", "Baseline"), rows)


def objective_figure(trials: Sequence[TuningTrial]) -> go.Figure:
    """Each complete trial's objective and the best so far, in trial order."""
    done = sorted((t for t in trials if t.value is not None), key=lambda t: t.number)
    values = [float(t.value or 0.0) for t in done]
    best = [max(values[: i + 1]) for i in range(len(values))]
    fig = figures.new_figure("Objective over trials", "trial", "net PnL on training blocks (ETH)")
    fig.add_trace(
        go.Scatter(
            x=[t.number for t in done],
            y=values,
            customdata=[str(t.net_pnl) for t in done],
            mode="markers",
            name="trial",
            hovertemplate="trial %{x}: %{y:.6f} ETH (%{customdata} wei)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[t.number for t in done],
            y=best,
            mode="lines",
            name="best so far",
            line={"shape": "hv"},
        )
    )
    return fig


def write_tuning_report(store: Store, result: Tuning, path: Path) -> Path:
    meta, rows, blocks = report_inputs(store, result.held_out_tuned_run)
    meta = {
        "study": result.study,
        "strategy": result.strategy,
        "tuned config": dict(result.config),
        "training blocks": f"{result.train[0]}-{result.train[1]}",
        "held-out blocks": f"{result.held_out[0]}-{result.held_out[1]}",
        "trials": len(result.trials),
        "held-out runs (tuned, baseline)": f"{result.held_out_tuned_run}, "
        f"{result.held_out_baseline_run}",
        "dataset": meta["dataset"],
        "git sha": meta["git sha"],
    }
    note = (
        "<p>The tables and figures below the comparison are the tuned parameters' run on the "
        "held-out blocks; the baseline's run is its own report.</p>"
    )
    sections = [
        (
            "Tuned vs baseline (held-out blocks)",
            comparison_table(result.held_out_tuned, result.held_out_baseline) + note,
        ),
        (
            "Objective over trials",
            f'<div class="figure">{figures.fragment(objective_figure(result.trials), "fig-trials")}'
            "</div>",
        ),
    ]
    return write_report(
        path,
        title=f"Tuning {result.strategy}: {result.study}",
        run=meta,
        rows=rows,
        blocks=blocks,
        extra_sections=sections,
    )
