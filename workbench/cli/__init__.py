"""The ``workbench`` command (typer). Thin: each module parses its arguments and calls the
library. Importing a command module registers it on ``app``."""

from __future__ import annotations

from workbench.cli import backtest, datasets, devnet, doctor, importers, ingest, market, tune  # noqa: F401  (registers the commands)
from workbench.cli.common import app

__all__ = ["app"]
