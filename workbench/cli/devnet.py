"""`workbench devnet generate` / `rebuild`: deterministic devnet histories on a local Anvil."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from workbench.cli.common import app, console, fail
from workbench.sources.devnet.config import DEFAULT_BLOCKS, DEFAULT_SEED

devnet_app = typer.Typer(
    help="Deterministic devnet histories on a local Anvil.", no_args_is_help=True
)
app.add_typer(devnet_app, name="devnet")


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,  # gone when done: the summary or the error is what stays
    )


@devnet_app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="directory to write (must be empty)")],
    blocks: Annotated[
        int, typer.Option("--blocks", min=1, help="blocks of history")
    ] = DEFAULT_BLOCKS,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="drives every key and draw")
    ] = DEFAULT_SEED,
    force: Annotated[bool, typer.Option("--force", help="replace a non-empty OUT")] = False,
) -> None:
    """Deploy the default market on Anvil, simulate traders and bots, write the dataset."""
    from workbench.errors import WorkbenchError
    from workbench.sources.devnet import DevnetConfig
    from workbench.sources.devnet import generate as run

    try:
        config = DevnetConfig(seed=seed, blocks=blocks)
        with _bar() as bar:
            task = bar.add_task("blocks", total=blocks)
            info = run(
                out, config, force=force, progress=lambda i, _: bar.update(task, completed=i)
            )
    except WorkbenchError as exc:
        fail(str(exc))
    console.print(_summary(info, out))


def _summary(info: dict[str, Any], out: Path) -> Table:
    stats = info["stats"]
    table = Table(title=f"devnet {out} (seed {info['seed']})", show_header=False)
    first, last = info["blocks"]
    fees = stats["base_fee_wei"]
    rows = [
        ("blocks", f"{first}-{last} ({last - first + 1}), genesis {info['genesis']['block_hash']}"),
        ("transactions", f"{stats['transactions']} ({stats['reverted']} reverted)"),
        ("swaps", ", ".join(f"{k} {v}" for k, v in stats["swaps"].items())),
        ("arbitrage", ", ".join(f"{k} {v}" for k, v in stats["arbitrage_txs"].items()) or "none"),
        ("coinbase bids", f"{int(stats['coinbase_bids_wei']) / 10**18:.4f} ETH"),
        ("base fee", f"{int(fees['min']) / 1e9:.2f}-{int(fees['max']) / 1e9:.2f} gwei"),
        (
            "mempool",
            f"{stats['mempool']['sent']} sent, {stats['mempool']['included_after_their_slot']} waited a block or more",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@devnet_app.command()
def rebuild(
    directory: Annotated[Path, typer.Argument(help="a directory written by `devnet generate`")],
    blocks: Annotated[
        int | None, typer.Option("--blocks", min=1, help="only the first N blocks")
    ] = None,
) -> None:
    """Replay the history from its genesis state on a fresh Anvil; check every block hash."""
    from workbench.errors import WorkbenchError
    from workbench.sources.devnet import rebuild as replay

    try:
        with _bar() as bar:
            task = bar.add_task("rebuild", total=None)
            done = replay(
                directory,
                blocks=blocks,
                progress=lambda i, n: bar.update(task, completed=i, total=n),
            )
    except WorkbenchError as exc:
        fail(str(exc))
    console.print(
        f"[green]identical[/green]: blocks {done.first_block}-{done.last_block}, "
        f"{done.transactions} transactions, last hash {done.last_hash}"
    )
