"""Import an ethereum-etl export (blocks, transactions with their receipt fields, logs) into
a dataset.

The folder holds ``blocks``, ``transactions`` and ``logs`` as ``.jsonl``/``.json`` (what
``ethereumetl stream`` and the ``export_*`` commands write) or ``.csv``; receipts come from the
transactions' ``receipt_*`` fields or, for ``export_receipts_and_logs`` output, a ``receipts``
file. Every value is checked, and the files are checked against each other (each transaction
and log belongs to a block of the export with the same hash and timestamp, every block has
``transaction_count`` transactions, a log's transaction is the one at its index) before the
first block is written, so bad input never leaves half an import behind.

The dataset does not hold: block ``nonce``, ``sha3_uncles``, ``logs_bloom``,
``total_difficulty``, ``withdrawals_root``; receipt ``root``
(pre-Byzantium) and L2 ``l1_*`` fees. ``ImportSummary.dropped`` counts their non-null values.
ethereum-etl exports no signature (v, r, s) nor signed bytes, so ``raw`` stays null, and no
chain id: typed transactions (type >= 1) get ``chain_id``; legacy ones keep null because
without ``v`` nobody can tell whether they were EIP-155 protected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl

from workbench.errors import DatasetError
from workbench.sources.importers.common import (
    ImportSummary,
    address,
    append_export,
    check_target,
    data,
    hash32,
    hash_list,
    topics,
    u64,
    wei,
    withdrawals,
)
from workbench.sources.importers.etl_files import Field, find, read
from workbench.sources.importers.export_checks import (
    dataset_tables,
    in_blocks,
    log_transactions,
    unique,
)

BLOCK_FIELDS = (
    Field("number", u64),
    Field("hash", hash32),
    Field("parent_hash", hash32),
    Field("timestamp", u64),
    Field("miner", address),
    Field("gas_limit", u64),
    Field("gas_used", u64),
    Field("base_fee_per_gas", wei, required=False),
    Field("difficulty", wei),
    Field("extra_data", data),
    Field("state_root", hash32),
    Field("transactions_root", hash32),
    Field("receipts_root", hash32),
    Field("size", u64),
    Field("transaction_count", u64),
    Field("withdrawals", withdrawals, required=False),
    Field("blob_gas_used", u64, required=False),
    Field("excess_blob_gas", u64, required=False),
    Field("parent_beacon_block_root", hash32, required=False),
)
_IN_BLOCK = (
    Field("block_hash", hash32, required=False),
    Field("block_timestamp", u64, required=False),
)
_RECEIPT = (
    Field("status", u64, required=False, column="receipt_status"),
    Field("gas_used", u64, column="receipt_gas_used"),
    Field("cumulative_gas_used", u64, column="receipt_cumulative_gas_used"),
    Field("effective_gas_price", wei, required=False, column="receipt_effective_gas_price"),
    Field("contract_address", address, required=False, column="receipt_contract_address"),
)
TRANSACTION_FIELDS = (
    Field("block_number", u64),
    Field("transaction_index", u64),
    Field("hash", hash32),
    Field("from_address", address, column="from"),
    Field("to_address", address, required=False, column="to"),
    Field("value", wei),
    Field("gas", u64),
    Field("gas_price", wei),
    Field("max_fee_per_gas", wei, required=False),
    Field("max_priority_fee_per_gas", wei, required=False),
    Field("input", data),
    Field("nonce", u64),
    Field("transaction_type", u64, required=False, column="type"),
    Field("chain_id", u64, required=False),
    Field("max_fee_per_blob_gas", wei, required=False),
    Field("blob_versioned_hashes", hash_list, required=False),
    *_IN_BLOCK,
    *(Field("receipt_" + f.source, f.check, False, f.name) for f in _RECEIPT),
)
RECEIPT_FIELDS = (
    Field("transaction_hash", hash32),
    Field("block_number", u64),
    Field("transaction_index", u64),
    *_RECEIPT,
    Field("block_hash", hash32, required=False),
)
LOG_FIELDS = (
    Field("block_number", u64),
    Field("transaction_index", u64),
    Field("log_index", u64),
    Field("transaction_hash", hash32),
    Field("address", address),
    Field("topics", topics),
    Field("data", data),
    *_IN_BLOCK,
)


def import_ethereum_etl(
    folder: Path | str,
    out: Path | str,
    *,
    chain_id: int = 1,
    blocks_per_part: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Checks the whole export, then appends it to ``out`` (created if needed) in parts of at
    most ``blocks_per_part`` consecutive blocks; ``progress(blocks_done, blocks_total)``."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder (expected an ethereum-etl export)")
    check_target(out, chain_id)
    tables, dropped = read_export(folder, chain_id)
    return append_export(
        tables, dropped, folder, out, chain_id, "ethereum-etl", blocks_per_part, progress
    )


def read_export(folder: Path, chain_id: int) -> tuple[dict[str, pl.DataFrame], Counter[str]]:
    """The four block tables of the export in ``folder``, checked, in dataset columns."""
    paths = {item: find(folder, item) for item in ("blocks", "transactions", "logs", "receipts")}
    for item in ("blocks", "transactions", "logs"):
        if paths[item] is None:
            raise DatasetError(f"{folder} has no {item}.jsonl, {item}.json or {item}.csv")
    bp, tp, lp = paths["blocks"], paths["transactions"], paths["logs"]
    assert bp is not None and tp is not None and lp is not None
    blocks, dropped = read(bp, "block", BLOCK_FIELDS)
    txs, more = read(tp, "transaction", TRANSACTION_FIELDS)
    dropped += more
    if txs.height and txs["receipt_gas_used"].null_count() == txs.height:
        txs, more = _receipts_from_file(txs, paths["receipts"], folder)
        dropped += more
    lost = txs.filter(
        pl.col("receipt_gas_used").is_null() | pl.col("receipt_cumulative_gas_used").is_null()
    )
    if lost.height:
        raise DatasetError(
            f"{tp}:{lost['_line'][0]}: receipt_gas_used or its cumulative is missing"
        )
    logs, more = read(lp, "log", LOG_FIELDS)
    dropped += more
    if not blocks.height:
        raise DatasetError(f"{bp} holds no blocks")
    unique(blocks, ["number"], bp, "block")
    unique(txs, ["hash"], tp, "transaction hash")
    unique(txs, ["block_number", "transaction_index"], tp, "transaction index")
    unique(logs, ["block_number", "log_index"], lp, "log index")
    in_blocks(txs, blocks, tp, bp)
    in_blocks(logs, blocks, lp, bp)
    _counts(txs, blocks, tp, bp)
    log_transactions(logs, txs, lp, tp)
    return dataset_tables(blocks, txs, logs, chain_id, tp), dropped


def _receipts_from_file(
    txs: pl.DataFrame, path: Path | None, folder: Path
) -> tuple[pl.DataFrame, Counter[str]]:
    """Transactions without ``receipt_*`` fields joined with a ``receipts`` file."""
    if path is None:
        raise DatasetError(
            f"{folder}: the transactions carry no receipt_* fields and there is no receipts file"
        )
    receipts, dropped = read(path, "receipt", RECEIPT_FIELDS)
    unique(receipts, ["transaction_hash"], path, "receipt of transaction")
    cols = [f.name for f in _RECEIPT]
    joined = txs.drop(cols).join(
        receipts.select("transaction_hash", *cols),
        left_on="hash",
        right_on="transaction_hash",
        how="left",
    )
    lost = joined.filter(pl.col("receipt_gas_used").is_null())
    if lost.height:
        raise DatasetError(f"{path} has no receipt for transaction {lost['hash'][0]}")
    return joined, dropped


def _counts(txs: pl.DataFrame, blocks: pl.DataFrame, tpath: Path, bpath: Path) -> None:
    counts = txs.group_by("block_number").len()
    joined = blocks.join(counts, left_on="number", right_on="block_number", how="left")
    bad = joined.filter(pl.col("transaction_count") != pl.col("len").fill_null(0))
    if bad.height:
        row = bad.row(0, named=True)
        raise DatasetError(
            f"{bpath}:{row['_line']}: block {row['number']} has transaction_count "
            f"{row['transaction_count']} but {tpath} holds {row['len'] or 0} of its transactions"
        )
