"""Reading a mempool-dumpster file in batches: the parquet file (with ``rawTx``) or the CSV
summary, plain or as the ``.csv.zip`` the site publishes. Column names come out as in the
parquet file whatever the format, so one conversion serves both."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from workbench.errors import DatasetError

CSV_NAMES = {
    "timestamp": "timestamp_ms",
    "hash": "hash",
    "chainId": "chain_id",
    "txType": "tx_type",
    "from": "from",
    "to": "to",
    "value": "value",
    "nonce": "nonce",
    "gas": "gas",
    "gasPrice": "gas_price",
    "gasTipCap": "gas_tip_cap",
    "gasFeeCap": "gas_fee_cap",
    "sources": "sources",
    "includedAtBlockHeight": "included_at_block_height",
    "rawTx": "raw_tx",
}
"""The columns the import reads (parquet name: CSV name); the others are summaries of these."""
REQUIRED = (
    "timestamp",
    "hash",
    "chainId",
    "from",
    "to",
    "value",
    "nonce",
    "gas",
    "gasPrice",
    "gasTipCap",
    "gasFeeCap",
)
"""Present in every mempool-dumpster transactions file; ``txType``, ``sources``, inclusion and
``rawTx`` came later or only in parquet."""

PARQUET_BATCH = 100_000
CSV_BLOCK_BYTES = 16 << 20


def batches(path: Path) -> tuple[int | None, Iterator[pl.DataFrame]]:
    """The number of rows (when the format says it) and the file's rows, batch by batch."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    if magic == b"PAR1":
        pf = _parquet(path)
        _check_columns(path, pf.schema_arrow.names, csv=False)
        return pf.metadata.num_rows, _guard(path, _parquet_batches(pf))
    return None, _guard(path, _csv_batches(path, zipped=magic == b"PK\x03\x04"))


def _parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(f"{path}: not a readable parquet file ({exc})") from None


def _parquet_batches(pf: pq.ParquetFile) -> Iterator[pl.DataFrame]:
    columns = [c for c in pf.schema_arrow.names if c in CSV_NAMES]
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH, columns=columns):
        yield pl.DataFrame(pl.from_arrow(batch))


def _csv_batches(path: Path, zipped: bool) -> Iterator[pl.DataFrame]:
    with ExitStack() as stack:
        source: IO[bytes] = stack.enter_context(path.open("rb"))
        if zipped:
            archive = stack.enter_context(zipfile.ZipFile(source))
            members = [n for n in archive.namelist() if not n.endswith("/")]
            if len(members) != 1:
                raise DatasetError(f"{path}: a zip of {len(members)} files; expected one CSV")
            source = stack.enter_context(archive.open(members[0]))
        reader = pa_csv.open_csv(
            source,
            read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in CSV_NAMES.values()}
            ),
        )
        _check_columns(path, reader.schema.names, csv=True)
        to_parquet = {v: k for k, v in CSV_NAMES.items()}
        for batch in reader:
            df = pl.DataFrame(pl.from_arrow(batch))
            yield df.select(pl.col(c).alias(to_parquet[c]) for c in df.columns if c in to_parquet)


def _check_columns(path: Path, names: list[str], csv: bool) -> None:
    expected = [CSV_NAMES[c] if csv else c for c in REQUIRED]
    missing = [c for c in expected if c not in names]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(names)} "
            "(is this a mempool-dumpster transactions file?)"
        )


def _guard(path: Path, frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Reading errors (truncated parquet, a CSV row of the wrong width, a bad zip) as
    ``DatasetError`` naming the file."""
    try:
        yield from frames
    except (pa.ArrowException, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"{path}: unreadable ({exc})") from None
