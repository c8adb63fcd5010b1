"""Strategies: pure functions of a read-only context that return intents."""

from __future__ import annotations

from workbench.strategy import builtin  # noqa: F401  (registers the built-in strategies)
from workbench.strategy.api import (
    Strategy,
    StrategyConfig,
    available,
    config_type,
    create,
    register,
)
from workbench.strategy.context import BlockEnv, PendingTx, StrategyContext
from workbench.strategy.intents import ArbIntent, Intent

__all__ = [
    "ArbIntent",
    "BlockEnv",
    "Intent",
    "PendingTx",
    "Strategy",
    "StrategyConfig",
    "StrategyContext",
    "available",
    "config_type",
    "create",
    "register",
]
