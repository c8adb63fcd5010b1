"""`workbench backtest` and `workbench report`: score a strategy on historical blocks."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from workbench.chain.tools import project_root
from workbench.cli.common import app, console, dataset_or_default, fail, progress_bar
from workbench.engine.replay_node import ForkSource
from workbench.errors import ConfigError, WorkbenchError
from workbench.sources.ingest import parse_block_range

REPORTS = "reports"
BlocksOption = Annotated[
    str | None, typer.Option("--blocks", help="A-B (default: every replayable block)")
]
DatasetOption = Annotated[
    Path | None, typer.Option("--dataset", help="dataset folder (default: the devnet)")
]


def _blocks(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    try:
        return parse_block_range(text)
    except ConfigError as exc:
        fail(str(exc))


def _config(path: Path | None) -> tuple[str | None, dict[str, Any]]:
    """A TOML file: the strategy's config fields, and optionally ``strategy = "name"``."""
    if path is None:
        return None, {}
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except tomllib.TOMLDecodeError as exc:
        fail(f"{path} is not valid TOML: {exc}")
    name = data.pop("strategy", None)
    if name is not None and not isinstance(name, str):
        fail(f"{path}: strategy must be a name, got {name!r}")
    return name, data


def _report_path(run_id: int) -> Path:
    return project_root() / REPORTS / f"run-{run_id}.html"


@app.command()
def backtest(
    blocks: BlocksOption = None,
    dataset: DatasetOption = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="strategy name (default: cyclic_arb)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML with the strategy's config")
    ] = None,
    params: Annotated[
        Path | None,
        typer.Option(
            "--params", help="params file from `workbench tune` (strategy, config, models)"
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="processes; results identical to one")
    ] = 1,
    db: Annotated[
        str | None,
        typer.Option("--db", help="database URL (default: WORKBENCH_DB_URL or workbench.db)"),
    ] = None,
    fork_url: Annotated[
        str | None,
        typer.Option(
            "--fork-url",
            envvar="WORKBENCH_FORK_URL",
            show_envvar=True,
            help="archive node of a real chain's dataset (never stored; the variable keeps it "
            "out of the command line)",
        ),
    ] = None,
    market: Annotated[
        Path | None, typer.Option("--market", help="market.json (default: the dataset's)")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="keep every answer the fork fetched here")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option("--replay", help="a recorded cassette: no node needed")
    ] = None,
    rpc_rate: Annotated[
        float | None,
        typer.Option("--rpc-rate", help="most compute units per second sent to the node"),
    ] = None,
    allow_changed: Annotated[
        bool,
        typer.Option(
            "--allow-changed",
            help="resume a run although its data or code changed since (noted on the run)",
        ),
    ] = False,
) -> None:
    """Replay blocks with a strategy, record every opportunity, print the summary and the
    report's path. Rerun the same command to resume an interrupted run (refused when the
    blocks' data or the code changed since, unless --allow-changed). A dataset of a real
    chain replays on a fork of an archive node (--fork-url) or of a recorded cassette."""
    from workbench.engine.backtest import BacktestRequest, block_range, run_backtest
    from workbench.engine.params import load_params
    from workbench.report.run_report import report_inputs, write_run_report
    from workbench.scoring.metrics import summarize
    from workbench.store import open_store

    first, last = _blocks(blocks)
    named, cfg = _config(config)
    inclusion = None
    if params is not None:
        if config is not None:
            fail("give either --config or --params, not both")
        try:
            tuned = load_params(params)
        except ConfigError as exc:
            fail(str(exc))
        named, cfg, inclusion = tuned.strategy, dict(tuned.config), tuned.inclusion
    source = params or config
    if strategy and named and strategy != named:
        fail(f"--strategy {strategy} but {source} names strategy {named}")
    name = strategy or named or "cyclic_arb"
    try:
        req = BacktestRequest(
            dataset=dataset_or_default(dataset),
            strategy=name,
            config=cfg,
            first=first,
            last=last,
            workers=workers,
            db_url=db,
            inclusion=inclusion,
            fork=fork_source(fork_url, record, replay, rpc_rate),
            market=market,
            allow_changed=allow_changed,
        )
        lo, hi = block_range(req)
        with progress_bar() as progress:
            task = progress.add_task(f"{name} {lo}-{hi}", total=hi - lo + 1)
            run = run_backtest(req, on_block=lambda _: progress.advance(task))
        with open_store(db) as store:
            _, rows, replayed_blocks = report_inputs(store, run.id)
            path = write_run_report(store, run.id, _report_path(run.id))
    except WorkbenchError as exc:
        fail(str(exc))
    summary = summarize(rows).as_dict()
    table = Table(
        title=f"run {run.id}: {name} on blocks {lo}-{hi}{' (resumed)' if run.resumed else ''}"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in (
        "opportunities",
        "won",
        "lost_to_competitor",
        "reverted",
        "unprofitable_after_gas",
        "not_included",
    ):
        table.add_row(key, str(summary[key]))
    table.add_row("net PnL (with competition)", f"{summary['net_pnl_eth']:.6f} ETH")
    table.add_row("net PnL (upper bound)", f"{summary['net_pnl_upper_bound_eth']:.6f} ETH")
    table.add_row("hit rate", f"{summary['hit_rate']:.1%}")
    table.add_row(
        "revert rate predicted / at next block",
        f"{summary['predicted_revert_rate']:.1%} / {summary['next_block_revert_rate']:.1%}",
    )
    # Screening (exact math) and the EVM must agree to the wei on V2/V3 paths: any
    # disagreement is a defect, reported here and in the report's top-opportunities table.
    disagreements = [r for r in rows if r.sim_status == "success" and r.profit != r.expected_profit]
    table.add_row("screening != EVM profit", str(len(disagreements)))
    matched = sum(b.txs_matched for b in replayed_blocks)
    replayed = matched + sum(b.txs_mismatched for b in replayed_blocks)
    reforks = sum(b.reforked for b in replayed_blocks)
    table.add_row(
        "replay fidelity (transactions)",
        f"{matched:,} / {replayed:,}" + (f", {reforks} re-forks" if reforks else ""),
    )
    total, public = (
        sum(getattr(b, k) for b in replayed_blocks) for k in ("tx_count", "mempool_txs")
    )
    table.add_row(
        "seen in the public mempool",
        f"{public:,} / {total:,} transactions ({public / total:.1%})" if total else "-",
    )
    console.print(table)
    console.print(str(path), soft_wrap=True)


def fork_source(
    url: str | None, record: Path | None, replay: Path | None, rate: float | None
) -> ForkSource | None:
    """Where a fork replay reads the chain (None when nothing is given)."""
    if url is None and replay is None:
        if record is not None or rate is not None:
            fail("--record and --rpc-rate need a node: give --fork-url")
        return None
    if url is not None and replay is not None:
        fail("give either --fork-url or --replay (a cassette replays with no node)")
    return ForkSource(url=url, record=record, replay=replay, rate_cu=rate)


@app.command()
def report(
    run_id: Annotated[int, typer.Argument(help="run id (see the backtest summary)")],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: reports/run-ID.html)")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="database URL")] = None,
) -> None:
    """Write a run's self-contained HTML report and print its path."""
    from workbench.report.run_report import write_run_report
    from workbench.store import open_store

    try:
        with open_store(db) as store:
            path = write_run_report(store, run_id, out or _report_path(run_id))
    except WorkbenchError as exc:
        fail(str(exc))
    console.print(str(path), soft_wrap=True)
