"""Import a Flashbots mempool-dumpster file (https://mempool-dumpster.flashbots.net: parquet
with raw transactions, or the CSV summary) into a dataset's ``mempool`` table.

Each row becomes: ``first_seen_ms`` = ``timestamp``; ``source`` = ``mempool-dumpster:`` and the
sources that saw it, comma-joined (just ``mempool-dumpster`` when none are listed);
``included_block`` = ``includedAtBlockHeight`` (null when 0: not included); amounts as decimal
strings; ``raw`` and ``input`` from ``rawTx`` (parquet only: the CSV has just the selector, so
both stay null there). A ``rawTx`` must hash to its row's ``hash``. The dumpster fills
``gasTipCap``/``gasFeeCap`` with the gas price for legacy and access-list transactions; they
become null there, as an RPC node reports them. Files are read in batches, converted into
staged parts beside ``out`` and appended only once the whole file has passed its checks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from workbench.errors import DatasetError
from workbench.sources.dataset import Dataset
from workbench.sources.importers.common import U256_MAX, ImportSummary, check_target
from workbench.sources.importers.dumpster_files import CSV_NAMES, batches
from workbench.sources.importers.raw_decode import RawTxError, parse_raw

SOURCE = "mempool-dumpster"
_HASH = r"^0x[0-9a-fA-F]{64}$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_DECIMAL = r"^[0-9]+$"


def import_mempool_dumpster(
    file: Path | str,
    out: Path | str,
    *,
    chain_id: int = 1,
    rows_per_part: int = 500_000,
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportSummary:
    """Checks and converts every row of ``file``, then appends them to ``out`` (created if
    needed); ``progress(rows_done, rows_total or None)`` after each batch."""
    file, out = Path(file), Path(out)
    check_target(out, chain_id)
    total, frames = batches(file)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.import-", dir=out.parent) as tmp:
        staged: list[Path] = []
        pending: list[pl.DataFrame] = []
        done = 0
        for batch in frames:
            try:
                pending.append(convert(batch, done, file, chain_id))
            except pl.exceptions.PolarsError as exc:  # content no check foresaw
                end = done + batch.height
                raise DatasetError(f"{file}: rows {done + 1}-{end}: unexpected ({exc})") from None
            done += batch.height
            if sum(df.height for df in pending) >= rows_per_part:
                staged.append(_stage(pending, Path(tmp), len(staged)))
                pending = []
            if progress:
                progress(done, total)
        if pending:
            staged.append(_stage(pending, Path(tmp), len(staged)))
        if not done:
            raise DatasetError(f"{file} holds no transactions")
        ds = Dataset.open_or_create(out, chain_id=chain_id, source=SOURCE)
        for part in staged:
            ds.append_mempool(pl.read_parquet(part))
    return ImportSummary(out=out, rows={"mempool": done}, parts=len(staged))


def convert(df: pl.DataFrame, offset: int, file: Path, chain_id: int) -> pl.DataFrame:
    """One batch (parquet column names) as mempool rows; rows count from ``offset + 1``."""
    df = df.select(_text(df, c, file) for c in df.columns).with_row_index("_row", offset + 1)
    empty = {c: pl.col(c).is_null() | (pl.col(c) == "") for c in CSV_NAMES if c in df.columns}
    check = _Checker(df, file)
    check("hash", pl.col("hash").str.contains(_HASH), "is not a 32-byte 0x-hex hash")
    check("from", pl.col("from").str.contains(_ADDRESS), "is not a 20-byte 0x-hex address")
    check("to", empty["to"] | pl.col("to").str.contains(_ADDRESS), "is not an address or empty")
    check("timestamp", pl.col("timestamp").cast(pl.Int64, strict=False) >= 0, "is not a time in ms")
    for c in ("value", "gasPrice", "gasTipCap", "gasFeeCap"):
        digits = pl.col(c).str.strip_chars_start("0")
        size = digits.str.len_bytes()
        fits = (size < 78) | ((size == 78) & (digits <= str(U256_MAX)))
        check(c, empty[c] | (pl.col(c).str.contains(_DECIMAL) & fits), "is not a uint256 decimal")
    for c in ("nonce", "gas", "chainId", "txType", "includedAtBlockHeight"):
        if c in df.columns:
            u64 = (
                pl.col(c).str.contains(_DECIMAL)
                & pl.col(c).cast(pl.UInt64, strict=False).is_not_null()
            )
            check(c, empty[c] | u64, "is not an unsigned 64-bit integer")
    chain = pl.col("chainId").cast(pl.UInt64, strict=False)
    check("chainId", chain.fill_null(0).is_in([0, chain_id]), f"is not {chain_id} (--chain-id)")
    df = _with_raw(df, file)
    return df.select(
        pl.col("hash").str.to_lowercase(),
        pl.col("timestamp").cast(pl.Int64).alias("first_seen_ms"),
        _source(df).alias("source"),
        "raw",
        pl.col("from").str.to_lowercase(),
        pl.when(~empty["to"]).then(pl.col("to").str.to_lowercase()).alias("to"),
        pl.col("nonce").cast(pl.UInt64, strict=False),
        *(_wei(c).alias(name) for c, name in (("value", "value"), ("gasPrice", "gas_price"))),
        *(
            pl.when(pl.col("type").is_null() | (pl.col("type") >= 2)).then(_wei(c)).alias(name)
            for c, name in (
                ("gasFeeCap", "max_fee_per_gas"),
                ("gasTipCap", "max_priority_fee_per_gas"),
            )
        ),
        pl.col("gas").cast(pl.UInt64, strict=False),
        "input",
        "type",
        pl.when(chain != 0).then(chain).alias("chain_id"),
        _included(df).alias("included_block"),
    )


class _Checker:
    """Raises for the first row of a batch where a column fails its check."""

    def __init__(self, df: pl.DataFrame, file: Path) -> None:
        self.df, self.file = df, file

    def __call__(self, column: str, ok: pl.Expr, problem: str) -> None:
        bad = self.df.filter(~ok.fill_null(False))
        if bad.height:
            row = bad.row(0, named=True)
            value = repr(row[column])
            value = value if len(value) <= 80 else value[:77] + "..."
            raise DatasetError(
                f"{self.file}: row {row['_row']}, column {column}: {problem}: {value}"
            )


def _text(df: pl.DataFrame, column: str, file: Path) -> pl.Expr:
    """Scalar columns as text (parquet may hold integers or datetimes); ``sources`` as a list
    or text and ``rawTx`` as bytes or hex text, as they are."""
    dtype = df.schema[column]
    col = pl.col(column)
    if dtype == pl.String():
        return col
    if column == "rawTx" and dtype == pl.Binary():
        return col
    if column == "sources" and dtype == pl.List(pl.String()):
        return col
    if column not in ("rawTx", "sources"):
        if isinstance(dtype, pl.Datetime):
            return col.dt.epoch("ms").cast(pl.String)
        if dtype.is_integer():
            return col.cast(pl.String)
    raise DatasetError(
        f"{file}: column {column} holds {dtype}, which mempool-dumpster never writes"
    )


def _with_raw(df: pl.DataFrame, file: Path) -> pl.DataFrame:
    """Adds ``raw`` (hex), ``input`` and ``type`` (the column's, else the raw bytes')."""
    raw: list[bytes | None] = [None] * df.height
    if "rawTx" in df.columns:
        col = df["rawTx"]
        if col.dtype == pl.String():
            text = pl.col("rawTx")
            ok = text.is_null() | text.str.contains(r"^(0x)?([0-9a-fA-F]{2})*$")
            _Checker(df, file)("rawTx", ok, "is not hex")
            col = col.str.strip_prefix("0x").str.decode("hex")
        raw = [b or None for b in col.to_list()]
    types: list[int | None] = []
    inputs: list[str | None] = []
    for row, tx_hash, data in zip(df["_row"], df["hash"], raw, strict=True):
        if data is None:
            types.append(None)
            inputs.append(None)
            continue
        try:
            tx = parse_raw(data)
        except RawTxError as exc:
            raise DatasetError(f"{file}: row {row}, column rawTx: {exc}") from None
        if tx.hash != tx_hash.lower():
            raise DatasetError(
                f"{file}: row {row}, column rawTx: hashes to {tx.hash}, not {tx_hash}"
            )
        types.append(tx.type)
        inputs.append(tx.input)
    decoded = pl.DataFrame(
        {"raw": ["0x" + b.hex() if b else None for b in raw], "input": inputs, "_raw_type": types},
        schema={"raw": pl.String(), "input": pl.String(), "_raw_type": pl.UInt64()},
    )
    df = pl.concat([df, decoded], how="horizontal")
    given = (
        pl.col("txType").cast(pl.UInt64, strict=False)
        if "txType" in df.columns
        else pl.lit(None, pl.UInt64())
    )
    _Checker(df, file)(
        "txType",
        given.is_null() | pl.col("_raw_type").is_null() | (given == pl.col("_raw_type")),
        "differs from the type of rawTx",
    )
    return df.with_columns(pl.coalesce(given, pl.col("_raw_type")).alias("type"))


def _wei(column: str) -> pl.Expr:
    digits = pl.col(column).str.strip_chars_start("0")
    return (
        pl.when(pl.col(column).is_null() | (pl.col(column) == ""))
        .then(None)
        .when(digits == "")
        .then(pl.lit("0"))
        .otherwise(digits)
    )


def _source(df: pl.DataFrame) -> pl.Expr:
    if "sources" not in df.columns:
        return pl.lit(SOURCE)
    names = pl.col("sources")
    if df.schema["sources"] == pl.String():
        names = names.str.split(" ")
    names = names.list.eval(pl.element().filter(pl.element() != "")).list.join(",")
    return (
        pl.when(names.fill_null("") == "")
        .then(pl.lit(SOURCE))
        .otherwise(pl.lit(SOURCE + ":") + names)
    )


def _included(df: pl.DataFrame) -> pl.Expr:
    if "includedAtBlockHeight" not in df.columns:
        return pl.lit(None, pl.UInt64())
    height = pl.col("includedAtBlockHeight").cast(pl.UInt64, strict=False)
    return pl.when(height > 0).then(height)


def _stage(frames: list[pl.DataFrame], folder: Path, index: int) -> Path:
    path = folder / f"part-{index:06d}.parquet"
    pl.concat(frames).write_parquet(path)
    return path
