"""MEV research and execution workbench for EVM chains."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
