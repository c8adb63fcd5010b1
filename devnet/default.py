"""The default devnet dataset: what `make devnet` builds and a backtest uses when no dataset
is named (datasets/devnet-default, the default seed and length)."""

from __future__ import annotations

import json
from pathlib import Path

from devnet.config import DevnetConfig, DevnetError
from devnet.generator import Progress, generate
from devnet.rebuild import load_info
from workbench.chain.tools import project_root
from workbench.errors import DatasetError
from workbench.sources.dataset import Dataset
from workbench.sources.origin import GenesisOrigin


def default_dataset_path() -> Path:
    return project_root() / "datasets" / "devnet-default"


def is_current(root: Path, config: DevnetConfig) -> bool:
    """Whether ``root`` holds a finished, intact devnet generated with ``config``."""
    try:
        info = load_info(root)
        origin = Dataset.open(root).origin  # made before origins were written: rebuild it
    except (DevnetError, DatasetError, OSError, ValueError):
        return False
    same = info.get("config") == json.loads(json.dumps(config.to_json()))
    return same and isinstance(origin, GenesisOrigin)


def ensure_default_dataset(progress: Progress | None = None) -> Path:
    """The default dataset's path, generating it first if it is missing, stale or damaged."""
    path, config = default_dataset_path(), DevnetConfig()
    if not is_current(path, config):
        generate(path, config, force=True, progress=progress)
    return path
