"""Checks an export passes whole before anything of it is written (ethereum-etl's and cryo's),
and the dataset tables made of it."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from workbench.errors import DatasetError
from workbench.sources.schema import TABLES

RECEIPT_COLUMNS = (
    "status",
    "gas_used",
    "cumulative_gas_used",
    "effective_gas_price",
    "contract_address",
)
"""The receipt fields an importer puts on its transactions as ``receipt_<name>`` columns."""


def unique(df: pl.DataFrame, keys: list[str], path: Path, what: str) -> None:
    dup = df.filter(pl.struct(keys).is_duplicated())
    if dup.height:
        row = dup.row(0, named=True)
        key = ", ".join(f"{k} {row[k]}" for k in keys)
        raise DatasetError(f"{path}:{row['_line']}: {what} ({key}) appears more than once")


def in_blocks(df: pl.DataFrame, blocks: pl.DataFrame, path: Path, bpath: Path) -> None:
    """Every row's block is in the export, with the block hash and timestamp it names."""
    ref = blocks.select(
        pl.col("number").alias("block_number"), pl.col("hash").alias("_h"), pl.col("timestamp")
    )
    joined = df.join(ref, on="block_number", how="left")
    for cond, problem in (
        (pl.col("_h").is_null(), f"is not in {bpath}"),
        (pl.col("block_hash") != pl.col("_h"), f"has another hash in {bpath}"),
        (pl.col("block_timestamp") != pl.col("timestamp"), f"has another timestamp in {bpath}"),
    ):
        bad = joined.filter(cond)
        if bad.height:
            row = bad.row(0, named=True)
            raise DatasetError(f"{path}:{row['_line']}: block {row['block_number']} {problem}")


def log_transactions(logs: pl.DataFrame, txs: pl.DataFrame, lpath: Path, tpath: Path) -> None:
    ref = txs.select("block_number", "transaction_index", pl.col("hash").alias("_tx"))
    joined = logs.join(ref, on=["block_number", "transaction_index"], how="left")
    bad = joined.filter(pl.col("_tx").is_null() | (pl.col("_tx") != pl.col("transaction_hash")))
    if bad.height:
        row = bad.row(0, named=True)
        raise DatasetError(
            f"{lpath}:{row['_line']}: transaction {row['transaction_hash']} is not transaction "
            f"{row['transaction_index']} of block {row['block_number']} in {tpath}"
        )


def dataset_tables(
    blocks: pl.DataFrame, txs: pl.DataFrame, logs: pl.DataFrame, chain_id: int, tpath: Path
) -> dict[str, pl.DataFrame]:
    other = txs.filter(pl.col("chain_id").is_not_null() & (pl.col("chain_id") != chain_id))
    if other.height:
        row = other.row(0, named=True)
        raise DatasetError(
            f"{tpath}:{row['_line']}: chain_id {row['chain_id']}, but importing chain "
            f"{chain_id} (--chain-id)"
        )
    typed = pl.when(pl.col("type") >= 1).then(pl.lit(chain_id, pl.UInt64()))
    txs = txs.with_columns(pl.col("chain_id").fill_null(typed))
    receipts = txs.select(
        "block_number",
        "transaction_index",
        pl.col("hash").alias("transaction_hash"),
        *(pl.col(f"receipt_{c}").alias(c) for c in RECEIPT_COLUMNS),
        "type",
    )
    frames = {"blocks": blocks, "transactions": txs, "receipts": receipts, "logs": logs}
    return {t: df.select(c for c in df.columns if c in TABLES[t]) for t, df in frames.items()}
