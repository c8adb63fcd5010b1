"""What a backtest and the live runner both set up from a market: the pools to watch (read at
the start block, then followed from logs), the pools a block moved, and how our transactions
to our Executor are built."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from workbench.chain.market_spec import DeployedMarket
from workbench.execution.bundle import ExecutionConfig
from workbench.market.fetch import fetch_pool_state
from workbench.market.pool import PoolState
from workbench.rpc import RpcClient


def execution_config(market: DeployedMarket, chain_id: int, executor: str) -> ExecutionConfig:
    """How our transactions to ``executor`` are built on ``market``'s chain."""
    factory = market.v3_factory or ""
    return ExecutionConfig(
        chain_id=chain_id,
        executor=executor,
        v3_factories={p.lower(): factory for p in market.v3_pools.values()},
    )


def watched_pools(rpc: RpcClient, market: DeployedMarket) -> list[PoolState]:
    """Every pool of ``market`` as the node at ``rpc`` holds it now."""
    return [
        fetch_pool_state(rpc, a) for a in [*market.v2_pairs.values(), *market.v3_pools.values()]
    ]


def moved_by(logs: Iterable[Mapping[str, Any]], pools: Mapping[str, object]) -> frozenset[str]:
    """The watched pools (lowercase addresses) that emitted any of ``logs``."""
    return frozenset(str(log["address"]).lower() for log in logs) & frozenset(pools)
