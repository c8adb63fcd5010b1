"""Built-in strategies (importing this package registers them)."""

from __future__ import annotations

from workbench.strategy.builtin.backrun_arb import BackrunArb, BackrunArbConfig
from workbench.strategy.builtin.cyclic_arb import CyclicArb, CyclicArbConfig

__all__ = ["BackrunArb", "BackrunArbConfig", "CyclicArb", "CyclicArbConfig"]
