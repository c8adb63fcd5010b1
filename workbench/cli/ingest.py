"""`workbench ingest`: blocks from a node's JSON-RPC into a dataset (resumable), and
`workbench ingest mempool` / `workbench ingest join` for pending transactions."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.common import app, console, console_err, fail

ingest_app = typer.Typer(add_completion=False)
app.add_typer(ingest_app, name="ingest")


def say(text: str, *, err: bool = False) -> None:
    """A result line, not wrapped (paths stay copyable)."""
    (console_err if err else console).print(text, soft_wrap=True, markup=False)


@ingest_app.callback(invoke_without_command=True)
def ingest(
    ctx: typer.Context,
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc",
            envvar="WORKBENCH_RPC_URL",
            show_envvar=True,
            help="node JSON-RPC URL (http:// or https://; the variable keeps a key off argv)",
        ),
    ] = None,
    blocks: Annotated[
        str | None,
        typer.Option("--blocks", help="block range A-B (inclusive), or one block number"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="dataset directory (created, or resumed)")
    ] = None,
    chunk: Annotated[
        int, typer.Option("--chunk", min=1, help="blocks per commit (a kill loses at most one)")
    ] = 100,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="JSON-RPC calls per HTTP request")
    ] = 200,
) -> None:
    """Ingest blocks A-B (transactions, receipts, logs, raw transactions) from a node into a dataset.

    Example: workbench ingest --rpc http://127.0.0.1:8545 --blocks 100-199 --out datasets/mine

    Interrupted, rerun the same command: only the missing blocks are fetched. The subcommands record pending transactions (mempool) and join them with their blocks (join).
    """
    if ctx.invoked_subcommand is not None:
        if blocks or out:
            fail(
                f"--rpc/--blocks/--out belong to `workbench ingest`, not `ingest {ctx.invoked_subcommand}`"
            )
        return
    if rpc is None and blocks is None and out is None:
        console.print(ctx.get_help())
        raise typer.Exit(0)
    if rpc is None or blocks is None or out is None:
        fail("give --rpc URL --blocks A-B --out DIR (see `workbench ingest --help`)")

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from workbench.errors import ConfigError, WorkbenchError
    from workbench.rpc import RpcClient
    from workbench.sources.ingest import ingest_blocks, parse_block_range

    progress = Progress(
        TextColumn("ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console_err,
        disable=not console_err.is_terminal,
        transient=True,
    )
    task = progress.add_task("ingest", total=None, rate="")

    def on_progress(done: int, total: int) -> None:
        elapsed = progress.tasks[task].elapsed or 0.0
        rate = f"{done / elapsed:,.1f} blocks/s" if done and elapsed else ""
        progress.update(task, completed=done, total=total, rate=rate)

    try:
        first, last = parse_block_range(blocks)
        with progress, RpcClient(rpc) as client:
            report = ingest_blocks(
                client,
                out,
                first,
                last,
                chunk_blocks=chunk,
                batch_size=batch_size,
                on_progress=on_progress,
            )
    except KeyboardInterrupt:
        console_err.print(
            "[yellow]interrupted:[/yellow] every block committed so far is saved; "
            "rerun the same command to resume"
        )
        raise typer.Exit(130) from None
    except ConfigError as exc:
        fail(str(exc))
    except WorkbenchError as exc:
        fail(str(exc), 1)
    say(
        f"{out}: {report.blocks} block(s) ingested ({report.transactions} transactions, "
        f"{report.logs} logs) in {report.seconds:.2f}s ({report.blocks_per_s:,.1f} blocks/s); "
        f"{report.already_held} already held"
    )
    if report.raw_missing:
        console_err.print(
            f"[yellow]{report.raw_missing} transaction(s) have no verified raw bytes[/yellow]"
        )
    if report.mempool_joined:
        say(f"{report.mempool_joined} pending transaction(s) joined with their blocks")


@ingest_app.command("mempool")
def mempool(
    ws: Annotated[str, typer.Option("--ws", help="node WebSocket URL (ws:// or wss://)")],
    out: Annotated[Path, typer.Option("--out", help="dataset directory (created, or appended to)")],
    duration: Annotated[
        float | None,
        typer.Option("--duration", min=0.001, help="seconds to record (default: until Ctrl-C)"),
    ] = None,
    flush_seconds: Annotated[
        float, typer.Option("--flush-seconds", min=0.001, help="write a part at least this often")
    ] = 5.0,
    flush_rows: Annotated[
        int, typer.Option("--flush-rows", min=1, help="write a part when this many are waiting")
    ] = 1000,
) -> None:
    """Record pending transactions (full transaction + first-seen time) through eth_subscribe.

    Example: workbench ingest mempool --ws ws://127.0.0.1:8546 --duration 60 --out datasets/mine

    Reconnects after drops; Ctrl-C stops cleanly and writes what was seen. Rows are joined with the blocks that included them once the dataset holds those blocks (ingest them into the same --out, or run `workbench ingest join`).
    """
    from workbench.errors import WorkbenchError
    from workbench.rpc.redact import redact_url
    from workbench.sources.mempool_recorder import record_mempool

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        report = await record_mempool(
            ws,
            out,
            duration=duration,
            stop=stop,
            flush_seconds=flush_seconds,
            flush_rows=flush_rows,
        )
        how = "hashes + eth_getTransactionByHash" if report.hashes_only else "full transactions"
        say(
            f"{out}: {report.rows} pending transaction(s) from {report.source} in {report.parts} "
            f"part(s) over {report.seconds:.1f}s ({how}); {report.mempool_joined} joined with blocks"
        )

    say(f"recording pending transactions from {redact_url(ws)} (Ctrl-C to stop)", err=True)
    try:
        asyncio.run(run())
    except WorkbenchError as exc:
        fail(f"{exc} (rows recorded before the error are saved in {out})", 1)


@ingest_app.command("join")
def join(
    out: Annotated[Path, typer.Option("--out", help="dataset whose mempool rows to join")],
    blocks_from: Annotated[
        Path | None,
        typer.Option("--blocks-from", help="dataset holding the blocks (default: --out itself)"),
    ] = None,
) -> None:
    """Fill each recorded pending transaction's including block from ingested transactions."""
    from workbench.errors import WorkbenchError
    from workbench.sources.dataset import Dataset
    from workbench.sources.mempool_join import join_inclusion

    try:
        ds = Dataset.open(out)
        filled = join_inclusion(ds, Dataset.open(blocks_from) if blocks_from else None)
    except WorkbenchError as exc:
        fail(str(exc), 1)
    say(f"{out}: {filled} pending transaction(s) joined with their blocks")
