"""The Strategy protocol, frozen typed configs, and the registry by name.

A strategy is pure: ``on_block(ctx)`` and ``on_pending(ctx, tx)`` return intents and do no
I/O, read no clock and keep no hidden randomness. The same object runs in a backtest, in
shadow mode and live, and cannot tell which.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from workbench.errors import ConfigError
from workbench.strategy.context import PendingTx, StrategyContext
from workbench.strategy.intents import Intent


class StrategyConfig(BaseModel):
    """Base of every strategy's config: frozen, typed, unknown keys refused. Mark a field
    tunable with ``Field(..., json_schema_extra={"tunable": [low, high]})`` (an integer range)
    or ``{"tunable": ["a", "b", ...]}`` (a choice among strings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def tunables(cls) -> dict[str, tuple[Any, ...]]:
        """Field name -> (low, high) for an integer range, or the choices, for the fields the
        tuner may change."""
        out = {}
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            space = extra.get("tunable") if isinstance(extra, dict) else None
            if isinstance(space, list) and space:
                out[name] = tuple(space)
        return out


@runtime_checkable
class Strategy(Protocol):
    name: ClassVar[str]
    config: StrategyConfig

    def on_block(self, ctx: StrategyContext) -> list[Intent]: ...

    def on_pending(self, ctx: StrategyContext, tx: PendingTx) -> list[Intent]: ...


_REGISTRY: dict[str, tuple[type, type[StrategyConfig]]] = {}


def register(config_type: type[StrategyConfig]) -> Callable[[type], type]:
    """Class decorator: makes a strategy available by its ``name`` with its config type."""

    def add(cls: type) -> type:
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{cls.__name__} needs a class attribute `name`")
        known = _REGISTRY.get(name)
        if known is not None and _origin(known[0]) != _origin(cls):
            raise ConfigError(
                f"a strategy named {name!r} is already registered ({_origin(known[0])})"
            )
        _REGISTRY[name] = (cls, config_type)
        return cls

    return add


def _origin(cls: type) -> str:
    """Where a class is defined: re-running a notebook cell redefines the same class, which
    may replace its registration; another class may not take the name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def available() -> list[str]:
    return sorted(_REGISTRY)


def config_type(name: str) -> type[StrategyConfig]:
    return _lookup(name)[1]


def create(name: str, config: Mapping[str, Any] | StrategyConfig | None = None) -> Strategy:
    """The strategy called ``name`` with ``config`` validated against its config type."""
    cls, cfg_type = _lookup(name)
    if isinstance(config, StrategyConfig):
        if not isinstance(config, cfg_type):
            raise ConfigError(f"{name} takes a {cfg_type.__name__}, got {type(config).__name__}")
        cfg = config
    else:
        try:
            cfg = cfg_type(**dict(config or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors()
            )
            fields = ", ".join(cfg_type.model_fields)
            raise ConfigError(
                f"bad config for strategy {name!r}: {problems} (fields: {fields})"
            ) from None
    strategy = cls(cfg)
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"{cls.__name__} does not implement on_block/on_pending")
    return strategy


def _lookup(name: str) -> tuple[type, type[StrategyConfig]]:
    if name not in _REGISTRY:
        raise ConfigError(
            f"unknown strategy {name!r}; available: {', '.join(sorted(_REGISTRY)) or 'none'}"
        )
    return _REGISTRY[name]
