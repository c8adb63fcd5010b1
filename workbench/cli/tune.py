"""`workbench tune`: bid, slippage and tunable config fields chosen by backtests (optuna)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from workbench.chain.tools import project_root
from workbench.cli.backtest import (
    REPORTS,
    BlocksOption,
    DatasetOption,
    _blocks,
    _config,
)
from workbench.cli.common import app, console, dataset_or_default, fail, progress_bar
from workbench.errors import WorkbenchError


@app.command()
def tune(
    strategy: Annotated[str, typer.Option("--strategy", help="strategy name")] = "cyclic_arb",
    trials: Annotated[int, typer.Option("--trials", help="trials in the study (in all)")] = 20,
    blocks: BlocksOption = None,
    dataset: DatasetOption = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML: the baseline config (constant bid)")
    ] = None,
    held_out: Annotated[
        int, typer.Option("--held-out", help="percent of the range held out (the tail)")
    ] = 30,
    seed: Annotated[int, typer.Option("--seed", help="the sampler's seed")] = 0,
    storage: Annotated[
        str | None,
        typer.Option("--storage", help="optuna storage URL (default: the store's database)"),
    ] = None,
    study: Annotated[
        str | None, typer.Option("--study", help="study name (default: derived)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="params file (default: reports/params-STUDY.json)")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="processes per backtest")] = 1,
    db: Annotated[
        str | None, typer.Option("--db", help="database URL for the backtest runs")
    ] = None,
) -> None:
    """Tune on the training part of the range, compare tuned and baseline on the held-out
    tail, write the params file (for `backtest --params`) and a report.
    Rerun the same command to resume an interrupted study."""
    from workbench.engine.params import save_params
    from workbench.engine.tune import Progress as Callbacks
    from workbench.engine.tune import TuneRequest
    from workbench.engine.tune import tune as run_tune
    from workbench.report.tuning import write_tuning_report
    from workbench.store import open_store

    first, last = _blocks(blocks)
    named, cfg = _config(config)
    if named and named != strategy:
        fail(f"--strategy {strategy} but {config} names strategy {named}")
    try:
        req = TuneRequest(
            dataset=dataset_or_default(dataset),
            strategy=strategy,
            config=cfg,
            first=first,
            last=last,
            trials=trials,
            held_out_pct=held_out,
            seed=seed,
            storage=storage,
            study=study,
            workers=workers,
            db_url=db,
        )
        with progress_bar() as progress:
            trial_task = progress.add_task("trials", total=trials)
            block_task = progress.add_task("blocks", total=1)

            def stage(description: str, count: int) -> None:
                progress.reset(block_task, total=count, description=description)

            def trial(done: int, wanted: int) -> None:
                progress.update(trial_task, completed=done, total=wanted)

            result = run_tune(
                req,
                Callbacks(stage=stage, block=lambda _: progress.advance(block_task), trial=trial),
            )
        path = out or project_root() / REPORTS / f"params-{result.study}.json"
        save_params(result.params, path)
        with open_store(db) as store:
            report = write_tuning_report(store, result, path.with_suffix(".html"))
    except WorkbenchError as exc:
        fail(str(exc))
    table = Table(
        title=f"study {result.study}: held-out blocks {result.held_out[0]}-{result.held_out[1]}"
    )
    table.add_column("metric")
    table.add_column("tuned", justify="right")
    table.add_column("baseline", justify="right")
    t, b = result.held_out_tuned.as_dict(), result.held_out_baseline.as_dict()
    table.add_row("net PnL", f"{t['net_pnl_eth']:.6f} ETH", f"{b['net_pnl_eth']:.6f} ETH")
    table.add_row(
        "won / opportunities",
        f"{t['won']}/{t['opportunities']}",
        f"{b['won']}/{b['opportunities']}",
    )
    table.add_row("hit rate", f"{t['hit_rate']:.1%}", f"{b['hit_rate']:.1%}")
    table.add_row("bids paid", f"{t['bids_wei'] / 1e18:.6f} ETH", f"{b['bids_wei'] / 1e18:.6f} ETH")
    table.add_row(
        "revert rate predicted / next block",
        f"{t['predicted_revert_rate']:.1%} / {t['next_block_revert_rate']:.1%}",
        f"{b['predicted_revert_rate']:.1%} / {b['next_block_revert_rate']:.1%}",
    )
    console.print(table)
    console.print(f"tuned config: {dict(result.params.config)}", soft_wrap=True)
    console.print(str(path), soft_wrap=True)
    console.print(str(report), soft_wrap=True)
