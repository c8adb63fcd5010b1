"""The typer app and what every command shares: consoles and usage errors."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

app = typer.Typer(
    help="MEV research and execution workbench.", no_args_is_help=True, add_completion=False
)
console = Console()
console_err = Console(stderr=True)


@app.callback()
def _main() -> None:
    """MEV research and execution workbench for EVM chains."""


def fail(message: str, code: int = 2) -> NoReturn:
    """A usage or input error: one red line on stderr, no traceback, exit ``code``."""
    console_err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def open_text(path: Path) -> TextIO:
    try:
        return path.open()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


def progress_bar() -> Progress:
    """The bar long commands show (description, bar, done/total, time left); vanishes when done."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


DEFAULT_DATASET_GROUP = "workbench.default_dataset"
"""Entry points that provide the dataset used when no --dataset is given (the devnet's)."""


def dataset_or_default(dataset: Path | None) -> Path:
    """``dataset``, else the embedded default: the dataset an installed provider builds on
    first use (``devnet`` registers the devnet default)."""
    if dataset is not None:
        return dataset
    providers = sorted(entry_points(group=DEFAULT_DATASET_GROUP), key=lambda e: e.name)
    if not providers:
        fail("no --dataset given and no default dataset is installed; pass --dataset DIR")
    console.print(f"dataset: the {providers[0].name} default (building it if missing)")
    path: Path = providers[0].load()()
    return path
