"""A params file: a strategy's tuned config and the fitted models it consults, as JSON.

``workbench tune`` writes one; ``workbench backtest --params FILE`` (and the live runner)
read it, so the parameters that won on history are the ones that run. The file is plain,
exact JSON (integers stay integers) and is checked on load: the strategy must exist, the
config must validate against its type, the inclusion model must be well formed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.files import write_atomically
from workbench.scoring.inclusion import InclusionModel
from workbench.strategy.api import config_type, create

VERSION = 1


@dataclass(frozen=True)
class Params:
    strategy: str
    config: Mapping[str, Any]
    inclusion: InclusionModel | None = None
    tuning: Mapping[str, Any] = field(default_factory=dict)  # how they were found (report)

    def __post_init__(self) -> None:
        create(self.strategy, self.config)  # validates name and config, or raises ConfigError

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "strategy": self.strategy,
            "config": dict(self.config),
            "inclusion": None if self.inclusion is None else self.inclusion.to_json(),
            "tuning": dict(self.tuning),
        }


def save_params(params: Params, path: Path) -> Path:
    """Writes ``params`` to ``path`` atomically."""
    return write_atomically(path, json.dumps(params.to_json(), indent=2, sort_keys=True) + "\n")


def load_params(path: Path) -> Params:
    """The params in ``path``; a clear ``ConfigError`` for a missing, corrupt or foreign file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"params file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"params file {path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ConfigError(
            f"params file {path} is not a version-{VERSION} params file written by "
            "`workbench tune` (expected keys: version, strategy, config, inclusion)"
        )
    strategy, config = data.get("strategy"), data.get("config")
    if not isinstance(strategy, str) or not isinstance(config, dict):
        raise ConfigError(f"params file {path} needs a strategy name and a config object")
    inclusion = data.get("inclusion")
    tuning = data.get("tuning") or {}
    try:
        return Params(
            strategy=strategy,
            config=config,
            inclusion=None if inclusion is None else InclusionModel.from_json(inclusion),
            tuning=tuning if isinstance(tuning, dict) else {},
        )
    except ConfigError as exc:
        raise ConfigError(f"params file {path}: {exc}") from None


def config_of(params: Params) -> dict[str, Any]:
    """The params' config with every field filled in (defaults included), as plain JSON."""
    cfg = config_type(params.strategy)(**dict(params.config))
    return cfg.model_dump(mode="json")
