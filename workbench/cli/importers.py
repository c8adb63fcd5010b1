"""`workbench import ethereum-etl` / `cryo` / `mempool-dumpster`: public data into a dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from workbench.cli.common import app, console, console_err, fail
from workbench.errors import DatasetError

if TYPE_CHECKING:
    from workbench.sources.importers.common import ImportSummary

import_app = typer.Typer(help="Import public data into a dataset.", no_args_is_help=True)
app.add_typer(import_app, name="import")

Out = Annotated[Path, typer.Option("--out", help="dataset folder (created, or appended to)")]
ChainId = Annotated[int, typer.Option("--chain-id", help="chain of the input", min=1)]
BlocksPerPart = Annotated[
    int, typer.Option("--blocks-per-part", help="blocks per dataset file", min=1)
]


def _import_blocks(
    run: Callable[..., ImportSummary],
    folder: Path,
    out: Path,
    chain_id: int | None,
    blocks_per_part: int,
) -> None:
    """An export's import (``run``) with a progress bar over its parts; its summary printed."""
    summary = _with_progress(
        "block ranges",
        lambda progress: run(
            folder, out, chain_id=chain_id, blocks_per_part=blocks_per_part, progress=progress
        ),
    )
    _report_blocks(summary, out)


def _with_progress(
    unit: str, run: Callable[[Callable[[int, int | None], None]], ImportSummary]
) -> ImportSummary:
    """``run(progress)`` under a progress bar over ``unit``; a ``DatasetError`` ends the command."""
    with Progress(
        TextColumn(f"importing {unit}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console_err,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)
        try:
            return run(lambda done, total: bar.update(task, completed=done, total=total))
        except DatasetError as exc:
            fail(str(exc))


@import_app.command("ethereum-etl")
def ethereum_etl(
    folder: Annotated[Path, typer.Argument(help="ethereum-etl export: blocks, transactions, logs")],
    out: Out,
    chain_id: ChainId = 1,
    blocks_per_part: BlocksPerPart = 1000,
) -> None:
    """Import an ethereum-etl export (.jsonl/.json or .csv files); checked before writing."""
    from workbench.sources.importers import import_ethereum_etl

    _import_blocks(import_ethereum_etl, folder, out, chain_id, blocks_per_part)


def _report_blocks(summary: ImportSummary, out: Path) -> None:
    assert summary.block_range is not None
    first, last = summary.block_range
    rows = ", ".join(f"{n:,} {t}" for t, n in summary.rows.items())
    console.print(f"imported blocks {first}-{last} into {escape(str(out))}: {rows}", soft_wrap=True)
    if summary.dropped:
        held = ", ".join(f"{k} ({n:,})" for k, n in sorted(summary.dropped.items()))
        console.print(
            f"not held by the dataset (non-null values dropped): {escape(held)}", soft_wrap=True
        )


@import_app.command("cryo")
def cryo(
    folder: Annotated[
        Path, typer.Argument(help="cryo's parquet files: blocks, transactions, logs")
    ],
    out: Out,
    chain_id: Annotated[
        int | None,
        typer.Option(
            "--chain-id", help="chain of the input (default: the files' chain_id column)", min=1
        ),
    ] = None,
    blocks_per_part: BlocksPerPart = 1000,
) -> None:
    """Import a cryo export (blocks, transactions, logs parquet files); checked before writing."""
    from workbench.sources.importers import import_cryo

    _import_blocks(import_cryo, folder, out, chain_id, blocks_per_part)


@import_app.command("mempool-dumpster")
def mempool_dumpster(
    file: Annotated[Path, typer.Argument(help="mempool-dumpster .parquet, .csv or .csv.zip")],
    out: Out,
    chain_id: ChainId = 1,
) -> None:
    """Import a Flashbots mempool-dumpster file into the mempool table; checked before writing."""
    from workbench.sources.importers import import_mempool_dumpster

    summary = _with_progress(
        "rows",
        lambda progress: import_mempool_dumpster(file, out, chain_id=chain_id, progress=progress),
    )
    n = summary.rows["mempool"]
    console.print(
        f"imported {n:,} pending transactions into {escape(str(out))} ({summary.parts} part(s))",
        soft_wrap=True,
    )
