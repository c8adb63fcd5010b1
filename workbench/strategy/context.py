"""What a strategy sees: a read-only snapshot, identical in a backtest, shadow or live run.

Pool states are as of the parent block (for ``on_pending``: after the pending transaction).
There is no clock, no node and no randomness here except ``seed``: a strategy that needs
randomness derives it from the seed, so every replay is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workbench.market.graph import CycleIndex
from workbench.market.pool import Pool
from workbench.strategy.models import WinModel


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockEnv:
    """The block being built: number, timestamp, its base fee and how full its parent was
    (both known from the parent header)."""

    number: int
    timestamp: int
    base_fee: int
    gas_limit: int = 30_000_000
    parent_gas_used: int = 0

    @property
    def parent_fullness_bps(self) -> int:
        return min(10_000, self.parent_gas_used * 10_000 // self.gas_limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingTx:
    """A transaction seen in the mempool (fields as in the dataset's mempool table)."""

    hash: str
    sender: str
    to: str | None
    nonce: int
    value: int
    gas: int
    input: str
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None
    raw: str | None = None
    first_seen_ms: int | None = None

    def priority_fee(self, base_fee: int) -> int:
        """What the block builder earns per gas from it at ``base_fee``."""
        if self.max_fee_per_gas is not None and self.max_priority_fee_per_gas is not None:
            return max(0, min(self.max_priority_fee_per_gas, self.max_fee_per_gas - base_fee))
        return max(0, (self.gas_price or 0) - base_fee)


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyContext:
    """The read-only view handed to ``on_block`` and ``on_pending``."""

    block: BlockEnv
    base_token: str
    pools: Mapping[str, Pool]  # lowercase address -> state
    cycles: CycleIndex
    touched: frozenset[str] = frozenset()  # pools changed since the last context (lowercase)
    pending: PendingTx | None = None
    seed: int = 0
    inclusion: WinModel | None = None  # a fitted inclusion model, for model-based bids

    def pool(self, address: str) -> Pool:
        return self.pools[address.lower()]
