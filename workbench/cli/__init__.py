"""The ``workbench`` command (typer). Thin: each module parses its arguments and calls the
library. Importing a command module registers it on ``app``; packages that build on the
workbench (``live``, ``devnet``) add theirs through the ``workbench.commands`` entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

from workbench.cli import backtest, datasets, doctor, importers, ingest, market, tune  # noqa: F401  (registers the commands)
from workbench.cli.common import app

for _plugin in entry_points(group="workbench.commands"):
    _plugin.load()(app)

__all__ = ["app"]
