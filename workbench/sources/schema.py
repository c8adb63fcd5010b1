"""The dataset tables and their column types.

Hashes, addresses, calldata and log data are 0x-prefixed lowercase hex strings; wei amounts
(value, gas prices, base fee) are decimal strings, because uint256 does not fit any parquet
integer; counters that fit 64 bits (block number, gas, nonce, timestamps) are integers.
"""

from __future__ import annotations

import polars as pl

SCHEMA_VERSION = 2

Hex = pl.String()
Wei = pl.String()  # decimal string of a uint256
U64 = pl.UInt64()
Text = pl.String()

BLOCKS: dict[str, pl.DataType] = {
    "number": U64,
    "hash": Hex,
    "parent_hash": Hex,
    "timestamp": U64,
    "miner": Hex,
    "gas_limit": U64,
    "gas_used": U64,
    "base_fee_per_gas": Wei,
    "difficulty": Wei,
    "extra_data": Hex,
    "state_root": Hex,
    "transactions_root": Hex,
    "receipts_root": Hex,
    "size": U64,
    "transaction_count": U64,
    "mix_hash": Hex,  # prevrandao since the merge
    "parent_beacon_block_root": Hex,  # EIP-4788, since Cancun
    "blob_gas_used": U64,  # EIP-4844, since Cancun
    "excess_blob_gas": U64,
    "withdrawals": Text,  # EIP-4895: JSON [{"index","validator_index","address","amount"}], gwei
}

TRANSACTIONS: dict[str, pl.DataType] = {
    "block_number": U64,
    "transaction_index": U64,
    "hash": Hex,
    "from": Hex,
    "to": Hex,
    "value": Wei,
    "gas": U64,
    "gas_price": Wei,
    "max_fee_per_gas": Wei,
    "max_priority_fee_per_gas": Wei,
    "input": Hex,
    "nonce": U64,
    "type": U64,
    "chain_id": U64,
    "v": Wei,
    "r": Hex,
    "s": Hex,
    "access_list": Text,  # JSON text
    "raw": Hex,  # the signed transaction, when known
    "max_fee_per_blob_gas": Wei,  # type 3
    "blob_versioned_hashes": Text,  # type 3: JSON list of 0x-hashes
}

RECEIPTS: dict[str, pl.DataType] = {
    "block_number": U64,
    "transaction_index": U64,
    "transaction_hash": Hex,
    "status": U64,
    "gas_used": U64,
    "cumulative_gas_used": U64,
    "effective_gas_price": Wei,
    "contract_address": Hex,
    "type": U64,
}

LOGS: dict[str, pl.DataType] = {
    "block_number": U64,
    "transaction_index": U64,
    "log_index": U64,
    "transaction_hash": Hex,
    "address": Hex,
    "topics": pl.List(pl.String()),
    "data": Hex,
}

MEMPOOL: dict[str, pl.DataType] = {
    "hash": Hex,
    "first_seen_ms": pl.Int64(),  # unix time in milliseconds
    "source": Text,  # who saw it: a node URL's host, "mempool-dumpster", "devnet"...
    "raw": Hex,
    "from": Hex,
    "to": Hex,
    "nonce": U64,
    "value": Wei,
    "gas": U64,
    "gas_price": Wei,
    "max_fee_per_gas": Wei,
    "max_priority_fee_per_gas": Wei,
    "input": Hex,
    "type": U64,
    "chain_id": U64,
    "included_block": U64,  # filled when joined with the block that included it
}

ADDED_IN_2: dict[str, tuple[str, ...]] = {
    "blocks": (
        "mix_hash",
        "parent_beacon_block_root",
        "blob_gas_used",
        "excess_blob_gas",
        "withdrawals",
    ),
    "transactions": ("max_fee_per_blob_gas", "blob_versioned_hashes"),
}
"""Columns schema version 2 added (a version-1 file lacks them; they read as nulls)."""

TABLES: dict[str, dict[str, pl.DataType]] = {
    "blocks": BLOCKS,
    "transactions": TRANSACTIONS,
    "receipts": RECEIPTS,
    "logs": LOGS,
    "mempool": MEMPOOL,
}
BLOCK_TABLES = ("blocks", "transactions", "receipts", "logs")
"""Tables keyed by block number (appended by block range); ``mempool`` is keyed by time."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "blocks": ("number", "hash", "parent_hash", "timestamp", "gas_limit", "gas_used"),
    "transactions": (
        "block_number",
        "transaction_index",
        "hash",
        "from",
        "nonce",
        "gas",
        "input",
        "value",
    ),
    "receipts": (
        "block_number",
        "transaction_index",
        "transaction_hash",
        "gas_used",
        "cumulative_gas_used",
    ),
    "logs": ("block_number", "transaction_index", "log_index", "address", "topics", "data"),
    "mempool": ("hash", "first_seen_ms", "source"),
}
"""Columns that must be present and non-null; the others may be null (e.g. ``raw`` when the
signed bytes are unknown, ``base_fee_per_gas`` before London)."""


def file_schema_ok(table: str, schema: dict[str, pl.DataType]) -> bool:
    """Whether a parquet file's columns are the table's, now or as schema version 1 had them."""
    now = TABLES[table]
    v1 = {c: t for c, t in now.items() if c not in ADDED_IN_2.get(table, ())}
    return schema in (now, v1)


def empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TABLES[table])
