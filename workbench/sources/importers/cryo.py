"""Import a cryo export (paradigmxyz/cryo's ``blocks``, ``transactions`` and ``logs`` parquet
files) into a dataset, checked as ``import_ethereum_etl`` checks an ethereum-etl export.

cryo's columns become the dataset's: blocks ``block_number``, ``block_hash``, ``author``
(miner), ``parent_hash``, ``timestamp``, ``gas_limit``, ``gas_used``, ``base_fee_per_gas``,
``difficulty``, ``extra_data``, the three roots, ``size``, ``mix_hash``; transactions
``transaction_hash``, ``from_address``, ``to_address``, ``value_*``, ``gas_limit`` (gas),
``gas_price``, the two EIP-1559 fee caps, ``transaction_type``, ``nonce``, ``input``; logs
``address``, ``topic0``-``topic3``, ``data``. ``transaction_count`` is counted, and every block's
``gas_used`` must equal its transactions' (so an export cut by ``--exclude-failed`` or an address
filter is refused, as are gaps in transaction or log indexes, in a blocks file's range, or in
the ranges the transactions and logs files cover).

Receipts come from the transactions' ``gas_used`` and ``success`` (status); the rest follows
from consensus rules: ``cumulative_gas_used`` is the running sum in ``transaction_index``
order, ``effective_gas_price`` is ``gas_price`` (types 0, 1) or min(max fee, base fee + tip)
(types 2-4; null for other types), ``contract_address`` is the CREATE address of sender and
nonce for a transaction without ``to`` (set even when it failed, as nodes report it). cryo has
no receipt ``logs_bloom`` nor pre-Byzantium ``root``; before Byzantium (mainnet block 4,370,000)
a receipt has no status, so ``status`` stays null there whatever ``success`` says. cryo has no
signature (v, r, s) nor signed bytes (``raw`` stays null) and its ``chain_id`` column is the
node's, not the transaction's: typed transactions get ``chain_id``, legacy ones keep null.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl
from eth_utils import keccak

from workbench.errors import DatasetError
from workbench.rlp import rlp_encode
from workbench.sources.importers.common import ImportSummary, append_export, check_target
from workbench.sources.importers.cryo_files import (
    ADDRESS,
    BOOL,
    BYTES,
    HASH,
    TOPICS,
    U64,
    U256,
    WEI,
    Column,
    CryoFile,
    find,
    read,
)
from workbench.sources.importers.export_checks import (
    dataset_tables,
    in_blocks,
    log_transactions,
    unique,
)

SOURCE = "cryo"
BYZANTIUM = {1: 4_370_000}
"""First block whose receipts carry a status, by chain (0 where not listed)."""
BLOCK_COLUMNS = (
    Column("block_number", U64, "number", True),
    Column("block_hash", HASH, "hash", True),
    Column("parent_hash", HASH, required=True),
    Column("timestamp", U64, required=True),
    Column("gas_limit", U64, required=True),
    Column("gas_used", U64, required=True),
    Column("author", ADDRESS, "miner"),
    Column("base_fee_per_gas", WEI),
    Column("difficulty", WEI),
    Column("extra_data", BYTES),
    Column("state_root", HASH),
    Column("transactions_root", HASH),
    Column("receipts_root", HASH),
    Column("size", U64),
    Column("mix_hash", HASH, versioned=True),
)
TRANSACTION_COLUMNS = (
    Column("block_number", U64, required=True),
    Column("transaction_index", U64, required=True),
    Column("transaction_hash", HASH, "hash", True),
    Column("from_address", ADDRESS, "from", True),
    Column("to_address", ADDRESS, "to", required=True, nullable=True),  # null: a creation
    Column("value", U256, required=True),
    Column("input", BYTES, required=True),
    Column("nonce", U64, required=True),
    Column("gas_limit", U64, "gas", True),
    Column("gas_price", WEI),
    Column("max_fee_per_gas", WEI),
    Column("max_priority_fee_per_gas", WEI),
    Column("transaction_type", U64, "type"),
    Column("gas_used", U64, "receipt_gas_used", True),
    Column("success", BOOL, "receipt_status"),
    Column("block_hash", HASH),
    Column("timestamp", U64, "block_timestamp"),
)
LOG_COLUMNS = (
    Column("block_number", U64, required=True),
    Column("transaction_index", U64, required=True),
    Column("log_index", U64, required=True),
    Column("transaction_hash", HASH, required=True),
    Column("address", ADDRESS, required=True),
    Column("topic0 topic1 topic2 topic3", TOPICS, "topics", True),
    Column("data", BYTES, required=True),
    Column("block_hash", HASH),
)
HINTS = {"gas_limit": " (cryo 0.3.2, the release on PyPI, has no gas_limit: use a later cryo)"}
_FILTERED = "was the export filtered, by --exclude-failed or an address or topic? rerun without"
_TYPES = {U64: pl.UInt64(), BOOL: pl.UInt64()}


def import_cryo(
    folder: Path | str,
    out: Path | str,
    *,
    chain_id: int | None = None,
    blocks_per_part: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Checks every file of the export, then appends it to ``out`` (created if needed) in parts
    of at most ``blocks_per_part`` consecutive blocks; ``progress(parts_done, parts_total)``.
    ``chain_id`` defaults to the files' ``chain_id`` column (1 when they have none)."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder (expected cryo's parquet files)")
    if chain_id is not None:
        check_target(out, chain_id)
    tables, dropped, chain = read_cryo(folder, chain_id)
    check_target(out, chain)
    return append_export(tables, dropped, folder, out, chain, SOURCE, blocks_per_part, progress)


def read_cryo(
    folder: Path, chain_id: int | None
) -> tuple[dict[str, pl.DataFrame], Counter[str], int]:
    """The four block tables of the cryo export in ``folder``, checked, in dataset columns;
    the values dropped; the chain."""
    files = find(folder)
    b = read(folder, "blocks", files["blocks"], BLOCK_COLUMNS, HINTS)
    t = read(folder, "transactions", files["transactions"], TRANSACTION_COLUMNS, HINTS)
    lg = read(folder, "logs", files["logs"], LOG_COLUMNS, HINTS)
    chain = _chain(folder, chain_id, b.chains | t.chains | lg.chains)
    blocks = _with_nulls(b.rows, BLOCK_COLUMNS)
    txs = _with_nulls(t.rows, TRANSACTION_COLUMNS)
    logs = _with_nulls(lg.rows, LOG_COLUMNS).with_columns(
        pl.lit(None, pl.UInt64()).alias("block_timestamp")  # cryo's logs have none
    )
    if not blocks.height:
        raise DatasetError(f"{folder}: its blocks files hold no blocks")
    pattern = {d: folder / f"*__{d}__*.parquet" for d in ("blocks", "transactions", "logs")}
    unique(blocks, ["number"], folder, "block")
    unique(txs, ["hash"], folder, "transaction hash")
    unique(txs, ["block_number", "transaction_index"], folder, "transaction index")
    unique(logs, ["block_number", "log_index"], folder, "log index")
    _complete(b.files, blocks)
    _covered(folder, b.files, t.files, "transactions")
    _covered(folder, b.files, lg.files, "logs")
    in_blocks(txs, blocks, folder, pattern["blocks"])
    in_blocks(logs, blocks, folder, pattern["blocks"])
    _dense(folder, txs, "transaction_index", "transactions")
    _dense(folder, logs, "log_index", "logs")
    _gas(folder, txs, blocks)
    log_transactions(logs, txs, folder, pattern["transactions"])
    counts = txs.group_by("block_number").len().rename({"block_number": "number"})
    blocks = blocks.join(counts, on="number", how="left").with_columns(
        pl.col("len").fill_null(0).cast(pl.UInt64).alias("transaction_count")
    )
    txs = _receipts(folder, txs, blocks, chain)
    dropped = b.dropped + t.dropped + lg.dropped
    return dataset_tables(blocks, txs, logs, chain, pattern["transactions"]), dropped, chain


def _chain(folder: Path, chain_id: int | None, held: set[int]) -> int:
    if len(held) > 1:
        raise DatasetError(
            f"{folder} mixes chains {sorted(held)} (the files' chain_id); import each apart"
        )
    found = next(iter(held), None)
    if chain_id is not None and found is not None and found != chain_id:
        raise DatasetError(
            f"{folder} holds chain {found} (its files' chain_id), not {chain_id} (--chain-id)"
        )
    return chain_id or found or 1


def _with_nulls(df: pl.DataFrame, columns: tuple[Column, ...]) -> pl.DataFrame:
    """``df`` with a null column for every optional column the files lack."""
    absent = [c for c in columns if c.name not in df.columns]
    return df.with_columns(
        pl.lit(None, _TYPES.get(c.kind, pl.String())).alias(c.name) for c in absent
    )


def _complete(files: list[CryoFile], blocks: pl.DataFrame) -> None:
    """Every blocks file holds each block of the range its name gives (they are unique)."""
    numbers = blocks["number"].sort()
    for f in files:
        held = numbers.search_sorted(f.last, "right") - numbers.search_sorted(f.first, "left")
        if held != f.last - f.first + 1:
            have = set(numbers.filter(numbers.is_between(f.first, f.last)).to_list())
            gap = next(n for n in range(f.first, f.last + 1) if n not in have)
            raise DatasetError(
                f"{f.at} lacks block {gap} of its range {f.first}-{f.last} (cut short? rerun "
                f"`cryo blocks -b {f.first}:{f.last + 1} --overwrite ...`)"
            )


def _covered(folder: Path, blocks: list[CryoFile], files: list[CryoFile], dataset: str) -> None:
    """The files of ``dataset`` cover every block range of the blocks files."""
    spans: list[list[int]] = []
    for f in sorted(files, key=lambda f: f.first):
        if spans and f.first <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], f.last)
        else:
            spans.append([f.first, f.last])
    for b in blocks:
        if not any(lo <= b.first and b.last <= hi for lo, hi in spans):
            raise DatasetError(
                f"{folder} has no cryo {dataset} file for all of blocks {b.first}-{b.last} "
                f"(of {b.rel}); export them with `cryo {dataset} -b {b.first}:{b.last + 1} "
                f"-o {folder}`"
            )


def _dense(folder: Path, df: pl.DataFrame, index: str, what: str) -> None:
    """A block's indexes run 0..n-1 (they are unique): none is missing."""
    per = df.group_by("block_number").agg(pl.len(), pl.col(index).max().alias("top"))
    bad = per.filter(pl.col("top") + 1 != pl.col("len")).sort("block_number")
    if bad.height:
        row = bad.row(0, named=True)
        raise DatasetError(
            f"{folder}: block {row['block_number']} has {row['len']} {what}, yet {index} "
            f"reaches {row['top']}: some are missing ({_FILTERED})"
        )


def _gas(folder: Path, txs: pl.DataFrame, blocks: pl.DataFrame) -> None:
    """A block's gas_used is its transactions' sum: none is missing."""
    used = txs.group_by("block_number").agg(pl.col("receipt_gas_used").sum().alias("_sum"))
    joined = blocks.join(used, left_on="number", right_on="block_number", how="left")
    bad = joined.filter(pl.col("_sum").fill_null(0) != pl.col("gas_used")).sort("number")
    if bad.height:
        row = bad.row(0, named=True)
        raise DatasetError(
            f"{folder}:{row['_line']}: block {row['number']} used {row['gas_used']} gas but its "
            f"transactions in the transactions files used {row['_sum'] or 0} (some missing? "
            f"{_FILTERED})"
        )


def _receipts(folder: Path, txs: pl.DataFrame, blocks: pl.DataFrame, chain: int) -> pl.DataFrame:
    """Transactions with the receipt columns ``dataset_tables`` takes (see the module's docstring)."""
    base = blocks.select(pl.col("number").alias("block_number"), pl.col("base_fee_per_gas"))
    txs = txs.join(base, on="block_number", how="left").sort("block_number", "transaction_index")
    since = BYZANTIUM.get(chain, 0)
    lost = txs.filter(pl.col("receipt_status").is_null() & (pl.col("block_number") >= since))
    if lost.height:
        raise DatasetError(
            f"{folder}:{lost['_line'][0]}: success is missing (a receipt's status); rerun "
            "`cryo transactions --include-columns success ...`"
        )

    def wei(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Int128)

    fees = ("max_fee_per_gas", "max_priority_fee_per_gas", "base_fee_per_gas")
    dynamic = pl.min_horizontal(
        wei("max_fee_per_gas"), wei("base_fee_per_gas") + wei("max_priority_fee_per_gas")
    )
    price = (
        pl.when(pl.col("type").is_in([0, 1]) | pl.col("type").is_null())
        .then(wei("gas_price"))
        .when(pl.col("type").is_in([2, 3, 4]) & pl.all_horizontal(pl.col(fees).is_not_null()))
        .then(dynamic)
    )
    created = [
        None if to is not None else _create_address(sender, nonce)
        for sender, nonce, to in txs.select("from", "nonce", "to").iter_rows()
    ]
    return txs.with_columns(
        pl.when(pl.col("block_number") >= since).then(pl.col("receipt_status")),
        pl.col("receipt_gas_used")
        .cum_sum()
        .over("block_number")
        .alias("receipt_cumulative_gas_used"),
        price.cast(pl.String).alias("receipt_effective_gas_price"),
        pl.Series("receipt_contract_address", created, pl.String()),
        pl.lit(None, pl.UInt64()).alias("chain_id"),
    )


def _create_address(sender: str, nonce: int) -> str:
    """The address a CREATE by ``sender`` at ``nonce`` deploys to."""
    return "0x" + keccak(rlp_encode([bytes.fromhex(sender[2:]), nonce]))[12:].hex()
