"""Where data comes from: nodes (pool state over RPC), datasets and importers."""

from __future__ import annotations

from workbench.sources.pool_state import NotAPoolError, PoolKind, fetch_pool_state

__all__ = ["NotAPoolError", "PoolKind", "fetch_pool_state"]
