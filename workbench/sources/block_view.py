"""A dataset's blocks one at a time, as a replay consumes them: header, transactions in order
(with raw bytes), recorded receipts, logs, and which transactions were public (first seen in
the mempool, and when)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.errors import DatasetError
from workbench.sources.dataset import Dataset


@dataclass(frozen=True)
class BlockData:
    number: int
    timestamp: int
    base_fee: int
    miner: str
    gas_limit: int
    gas_used: int
    transactions: list[dict[str, Any]]  # in block order
    receipts: dict[str, dict[str, Any]]  # by transaction hash
    logs: list[dict[str, Any]]  # in log order
    first_seen_ms: dict[str, int] = field(default_factory=dict)  # public transactions only
    withdrawals: list[dict[str, Any]] = field(default_factory=list)  # EIP-4895, amounts in gwei
    parent_beacon_block_root: str | None = None  # EIP-4788
    hash: str | None = None
    parent_hash: str | None = None

    def logs_of(self, tx_hash: str) -> list[dict[str, Any]]:
        return [log for log in self.logs if log["transaction_hash"] == tx_hash]


def load_blocks(ds: Dataset, first: int, last: int) -> Iterator[BlockData]:
    """Blocks ``first..last`` in order; every one must be in the dataset."""
    held = ds.block_range
    if held is None or first < held[0] or last > held[1]:
        span = "nothing" if held is None else f"blocks {held[0]}-{held[1]}"
        raise DatasetError(f"{ds.root} holds {span}; blocks {first}-{last} were asked for")
    seen = ds.read("mempool").filter(pl.col("included_block").is_between(first, last))
    first_seen = {
        h: int(t)
        for h, t in zip(seen["hash"].to_list(), seen["first_seen_ms"].to_list(), strict=True)
    }
    tables = {t: ds.read(t, (first, last)) for t in ("blocks", "transactions", "receipts", "logs")}
    yield from blocks_of(tables, first_seen)


def blocks_of(
    tables: Mapping[str, pl.DataFrame], first_seen: Mapping[str, int]
) -> Iterator[BlockData]:
    """The blocks held in the four block tables (a dataset's, or ``BlockFetcher``'s from a
    node), in order; ``first_seen`` maps the public transactions' hashes to when they were seen."""
    blocks = tables["blocks"].sort("number")
    txs = _grouped(tables["transactions"].sort("block_number", "transaction_index"))
    receipts = _grouped(tables["receipts"])
    logs = _grouped(tables["logs"].sort("block_number", "log_index"))
    for b in blocks.iter_rows(named=True):
        n = b["number"]
        block_txs = txs.get(n, [])
        yield BlockData(
            number=n,
            timestamp=b["timestamp"],
            base_fee=int(b["base_fee_per_gas"] or 0),
            miner=b["miner"],
            gas_limit=b["gas_limit"],
            gas_used=b["gas_used"],
            transactions=block_txs,
            receipts={r["transaction_hash"]: r for r in receipts.get(n, [])},
            logs=logs.get(n, []),
            first_seen_ms={
                t["hash"]: first_seen[t["hash"]] for t in block_txs if t["hash"] in first_seen
            },
            withdrawals=json.loads(b["withdrawals"]) if b.get("withdrawals") else [],
            parent_beacon_block_root=b.get("parent_beacon_block_root"),
            hash=b.get("hash"),
            parent_hash=b.get("parent_hash"),
        )


def _grouped(df: pl.DataFrame) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in df.iter_rows(named=True):
        out[row["block_number"]].append(row)
    return out
