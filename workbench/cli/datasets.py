"""`workbench datasets list` / `show`: what datasets hold, with their checksums verified."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from workbench.chain.tools import project_root
from workbench.cli.common import app, console, fail
from workbench.errors import DatasetError
from workbench.sources.dataset import MANIFEST, Dataset
from workbench.sources.schema import TABLES

datasets_app = typer.Typer(help="Inspect datasets.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


def _range(ds: Dataset) -> str:
    r = ds.block_range
    return "-" if r is None else f"{r[0]}-{r[1]} ({r[1] - r[0] + 1} blocks)"


@datasets_app.command("list")
def list_datasets(
    root: Annotated[
        Path | None, typer.Option("--root", help="folder to search (default: ./datasets)")
    ] = None,
) -> None:
    """Every dataset under ROOT (one level deep), with range, rows and source."""
    base = root or project_root() / "datasets"
    if not base.is_dir():
        fail(f"{base} is not a folder")
    table = Table(title=f"datasets in {base}")
    for col in ("dataset", "chain", "blocks", "transactions", "mempool", "source", "status"):
        table.add_column(col)
    found = sorted(p.parent for p in base.glob(f"*/{MANIFEST}"))
    for path in found:
        try:
            ds = Dataset.open(path, verify=False)
        except DatasetError as exc:
            table.add_row(path.name, "", "", "", "", "", f"[red]{exc}[/red]")
            continue
        table.add_row(
            path.name,
            str(ds.chain_id),
            _range(ds),
            str(ds.rows("transactions")),
            str(ds.rows("mempool")),
            ds.source,
            "[green]ok[/green]",
        )
    if not found:
        console.print(f"no datasets in {base} (build the devnet default with `make devnet`)")
        return
    console.print(table)


@datasets_app.command("show")
def show(path: Annotated[Path, typer.Argument(help="dataset folder")]) -> None:
    """What one dataset holds, after verifying every file's checksum and schema."""
    try:
        ds = Dataset.open(path, verify=True)
    except DatasetError as exc:
        fail(str(exc))
    summary = ds.summary()
    table = Table(title=f"{path} — checksums and schemas verified")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("files", justify="right")
    table.add_column("bytes", justify="right")
    for name in TABLES:
        parts = ds.parts(name)
        size = sum((path / p.path).stat().st_size for p in parts)
        table.add_row(name, f"{ds.rows(name):,}", str(len(parts)), f"{size:,}")
    console.print(
        f"chain id {summary['chain_id']}, blocks {_range(ds)}, source {summary['source']}, "
        f"replays from {summary['origin']}"
    )
    console.print(f"created {summary['created_at']} by workbench {summary['workbench_version']}")
    console.print(table)
