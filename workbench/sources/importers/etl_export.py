"""The reverse of the ethereum-etl import: a dataset's blocks, transactions (with their receipt
fields) and logs as the JSON rows ``ethereumetl stream`` writes. It proves the import loses
nothing the dataset has a column for, and feeds tools that read ethereum-etl output.

Field names and types are ethereum-etl's (wei amounts as JSON integers). ``type``,
``item_id``, ``item_timestamp`` and the transactions' and logs' ``block_hash`` and
``block_timestamp`` are derived from the blocks. The fields in ``NOT_HELD`` are absent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from workbench.sources.dataset import Dataset
from workbench.sources.importers.common import hash_list, wei, withdrawals
from workbench.sources.importers.ethereum_etl import BLOCK_FIELDS, LOG_FIELDS, TRANSACTION_FIELDS
from workbench.sources.importers.etl_files import Field
from workbench.sources.schema import ADDED_IN_2

NOT_HELD: dict[str, tuple[str, ...]] = {
    "block": (
        "nonce",  # always 0 after the merge; PoW seal before it
        "sha3_uncles",
        "logs_bloom",  # derivable from the logs
        "total_difficulty",
        "withdrawals_root",
    ),
    "transaction": (
        "receipt_root",  # pre-Byzantium receipts only
        "receipt_blob_gas_price",
        "receipt_blob_gas_used",
        "receipt_l1_fee",  # L2 (OP-stack) receipts only
        "receipt_l1_gas_used",
        "receipt_l1_gas_used_paid",
        "receipt_l1_gas_price",
        "receipt_l1_fee_scalar",
    ),
    "log": (),
}
"""ethereum-etl fields the dataset has no column for."""


def export_ethereum_etl(
    ds: Dataset, blocks: tuple[int, int] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``{"blocks": [...], "transactions": [...], "logs": [...]}`` for all or some blocks."""
    b = ds.read("blocks", blocks).sort("number")
    in_block = b.select(
        pl.col("number").alias("block_number"),
        pl.col("hash").alias("block_hash"),
        pl.col("timestamp").alias("block_timestamp"),
    )
    receipts = ds.read("receipts", blocks).select(
        "block_number",
        "transaction_index",
        *(pl.col(c).alias("receipt_" + c) for c in _RECEIPT_COLUMNS),
    )
    t = (
        ds.read("transactions", blocks)
        .join(receipts, on=["block_number", "transaction_index"], how="left")
        .join(in_block, on="block_number", how="left")
        .sort("block_number", "transaction_index")
    )
    logs = (
        ds.read("logs", blocks)
        .join(in_block, on="block_number", how="left")
        .sort("block_number", "log_index")
    )
    tx = [f for f in TRANSACTION_FIELDS if f.source != "chain_id"]  # read if given, not etl's
    return {
        "blocks": [
            _stream("block", f"block_{r['hash']}", r["timestamp"], _row(r, BLOCK_FIELDS))
            for r in b.iter_rows(named=True)
        ],
        "transactions": [
            _stream("transaction", f"transaction_{r['hash']}", r["block_timestamp"], _row(r, tx))
            for r in t.iter_rows(named=True)
        ],
        "logs": [
            _stream(
                "log",
                f"log_{r['transaction_hash']}_{r['log_index']}",
                r["block_timestamp"],
                _row(r, LOG_FIELDS),
            )
            for r in logs.iter_rows(named=True)
        ],
    }


_RECEIPT_COLUMNS = (
    "status",
    "gas_used",
    "cumulative_gas_used",
    "effective_gas_price",
    "contract_address",
)


_LATER = frozenset(c for cols in ADDED_IN_2.values() for c in cols)


def _row(record: dict[str, Any], fields: Sequence[Field]) -> dict[str, Any]:
    """ethereum-etl names and types for one dataset row: wei strings back to integers."""
    out = {}
    for f in fields:
        value = record[f.name]
        if value is None and f.name in _LATER:
            continue  # a field of a later fork: ethereum-etl leaves it out before it
        if value is not None and f.check is wei:
            value = int(value)
        elif value is not None and f.check in (withdrawals, hash_list):
            value = json.loads(value)  # ethereum-etl writes lists, the dataset JSON text
        out[f.source] = value
    return out


def _stream(kind: str, item_id: str, timestamp: int, row: dict[str, Any]) -> dict[str, Any]:
    """The fields ``ethereumetl stream`` adds to every row."""
    at = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": kind, **row, "item_id": item_id, "item_timestamp": at}
