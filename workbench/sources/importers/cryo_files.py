"""Finding and reading cryo's parquet files (paradigmxyz/cryo) into frames of the dataset's
column names, every value checked.

cryo names a file ``NETWORK__DATASET__FIRST_to_LAST.parquet`` (blocks FIRST..LAST inclusive).
It writes hashes, addresses and byte strings as binary columns, or as 0x-hex text with
``--hex``; uint256 values (a transaction's ``value``) in the variants ``--u256-types`` names:
``value_binary`` (32 bytes big-endian), ``value_string`` (decimal), ``value_f64``... Only the
exact variants are read, and where several are present they must agree. Names and types are
those of cryo's ``crates/freeze/src/datasets/{blocks,transactions,logs}.rs``, in the PyPI
release (0.3.2) and in its repository's later sources (which add ``gas_limit``, ``difficulty``
and ``mix_hash`` to blocks and ``block_hash`` to logs). A row is named ``DIR:FILE row N``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import polars as pl

from workbench.errors import DatasetError
from workbench.sources.importers.common import BadValue, wei
from workbench.sources.schema import TABLES

DATASETS = ("blocks", "transactions", "logs")
U64, WEI, HASH, ADDRESS, BYTES, BOOL, U256, TOPICS = (
    "u64", "wei", "hash", "address", "bytes", "bool", "u256", "topics"
)  # fmt: skip
_BYTES = {HASH: 32, ADDRESS: 20, BYTES: None}
_RANGE = re.compile(r"__(\d+)_to_(\d+)")
_HEX = r"^(?:[0-9a-fA-F]{2})*$"
_EXACT = ("binary", "string", "u64", "u32")
_VARIANTS = ("_binary", "_string", "_f64", "_f32", "_u64", "_u32", "_d128")
_TOPICS = tuple(f"topic{i}" for i in range(4))
DERIVED = frozenset(
    {"chain_id", "n_input_bytes", "n_input_zero_bytes", "n_input_nonzero_bytes"}
    | {"n_rlp_bytes", "n_data_bytes"}
)
"""cryo columns that follow from others (``chain_id`` is checked): never counted as dropped."""


@dataclass(frozen=True, slots=True)
class Column:
    """One cryo column (for ``U256`` the field whose variants are read, for ``TOPICS`` the
    four topic columns), what it holds and the column it becomes."""

    source: str
    kind: str
    column: str = ""
    required: bool = False  # the column must be there (and, unless nullable, every value)
    nullable: bool = False
    versioned: bool = False  # a dataset column of a later schema: read where TABLES has it

    @property
    def name(self) -> str:
        return self.column or self.source


@dataclass(frozen=True, slots=True)
class CryoFile:
    """One file, ``rel`` its path under the export's folder, holding blocks ``first..last``."""

    folder: Path
    rel: str
    first: int
    last: int

    @property
    def path(self) -> Path:
        return self.folder / self.rel

    @property
    def at(self) -> str:
        """How messages name the file: ``FOLDER:REL`` (a row: ``FOLDER:REL row N``)."""
        return f"{self.folder}:{self.rel}"

    def row(self, n: object) -> str:
        return f"{self.at} row {n}"


@dataclass(frozen=True, slots=True)
class Read:
    """One dataset's checked rows (with ``_line``), its files, the values of columns the
    dataset does not hold (``dataset.column``) and the chain ids of its ``chain_id`` column."""

    rows: pl.DataFrame
    files: list[CryoFile]
    dropped: Counter[str]
    chains: set[int]


def find(folder: Path) -> dict[str, list[CryoFile]]:
    """cryo's parquet files under ``folder`` by dataset (hidden folders like ``.cryo`` skipped)."""
    found: dict[str, list[CryoFile]] = {d: [] for d in DATASETS}
    other: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        dataset = next((d for d in DATASETS if f"__{d}__" in path.name), None)
        hidden = any(p.startswith(".") for p in path.relative_to(folder).parts)
        if dataset is None or hidden or not path.is_file():
            continue
        if path.suffix != ".parquet":
            other.setdefault(dataset, path)
            continue
        ranges = _RANGE.findall(path.stem)
        if not ranges:
            raise DatasetError(
                f"{path}: not named as cryo names its files "
                f"(NETWORK__{dataset}__FIRST_to_LAST.parquet); keep cryo's file names"
            )
        first, last = (int(n) for n in ranges[-1])
        rel = str(path.relative_to(folder))
        found[dataset].append(CryoFile(folder, rel, first, last))
    for dataset, path in other.items():
        if not found[dataset]:
            raise DatasetError(
                f"{path} is not parquet: only parquet is read, rerun cryo without --csv/--json"
            )
    if not any(found.values()):
        raise DatasetError(
            f"{folder} holds no cryo parquet files; export them with `cryo blocks transactions "
            f"logs -b FIRST:LAST --include-columns parent_hash gas_limit -o {folder}`"
        )
    return found


def read(
    folder: Path,
    dataset: str,
    files: list[CryoFile],
    columns: Sequence[Column],
    hints: Mapping[str, str],
) -> Read:
    """Every file of ``dataset`` read and checked; ``hints`` add to the message for a missing
    required column, by column."""
    if not files:
        raise DatasetError(
            f"{folder} has no cryo {dataset} files (*__{dataset}__*.parquet); export them with "
            f"`cryo {dataset} -b FIRST:LAST -o {folder}`"
        )
    frames: list[pl.DataFrame] = []
    dropped: Counter[str] = Counter()
    chains: set[int] = set()
    for f in files:
        df = _load(f.path).with_row_index("_row", 1)
        frames.append(_convert(df, f, dataset, columns, hints))
        dropped += _dropped(df, dataset, columns)
        if "chain_id" in df.columns and df.schema["chain_id"].is_integer():
            chains |= set(df["chain_id"].drop_nulls().to_list())
    return Read(pl.concat(frames, how="vertical"), files, dropped, chains)


def _load(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for a broken file
        raise DatasetError(f"{path}: not a readable parquet file ({exc})") from None


def _has(df: pl.DataFrame, c: Column) -> bool:
    if c.kind == U256:
        return any(f"{c.source}{v}" in df.columns for v in _VARIANTS)
    if c.kind == TOPICS:
        return all(t in df.columns for t in _TOPICS)
    return c.source in df.columns


def _convert(
    df: pl.DataFrame, f: CryoFile, dataset: str, columns: Sequence[Column], hints: Mapping[str, str]
) -> pl.DataFrame:
    missing = [c.source for c in columns if c.required and not _has(df, c)]
    if missing:
        raise DatasetError(
            f"{f.path} lacks {', '.join(missing)}, which the dataset needs; rerun `cryo {dataset} "
            f"--include-columns {' '.join(missing)} ...`{''.join(hints.get(m, '') for m in missing)}"
        )
    out = [_column(df, c, f) for c in columns if _has(df, c) and _held(dataset, c)]
    lines = pl.concat_str(pl.lit(f"{f.rel} row "), pl.col("_row").cast(pl.String))
    frame = pl.DataFrame(out).with_columns(df.select(lines.alias("_line")).to_series())
    key = "number" if dataset == "blocks" else "block_number"
    outside = frame.filter(~pl.col(key).is_between(f.first, f.last))
    if outside.height:
        row = outside.row(0, named=True)
        raise DatasetError(
            f"{f.folder}:{row['_line']}: block {row[key]} is outside the file's range "
            f"{f.first}-{f.last}"
        )
    return frame


def _held(dataset: str, c: Column) -> bool:
    """Whether ``c`` is read (a ``versioned`` one only where the dataset's schema has it)."""
    return not c.versioned or c.name in TABLES[dataset]


def _dropped(df: pl.DataFrame, dataset: str, columns: Sequence[Column]) -> Counter[str]:
    """Non-null values of the columns not read, by field (a uint256's variants count once)."""
    used = {c.source for c in columns if _held(dataset, c)} | set(_TOPICS) | {"_row"}
    counts: Counter[str] = Counter()
    for name in df.columns:
        base = next((name.removesuffix(v) for v in _VARIANTS if name.endswith(v)), name)
        if name not in used and base not in used and base not in DERIVED and df[name].count():
            key = f"{dataset}.{base}"
            counts[key] = max(counts[key], df[name].count())
    return counts


def _fail(df: pl.DataFrame, bad: pl.Expr, f: CryoFile, source: str, problem: str) -> None:
    rows = df.filter(bad.fill_null(False))
    if rows.height:
        raise DatasetError(f"{f.row(rows['_row'][0])}: {source} {problem}")


def _column(df: pl.DataFrame, c: Column, f: CryoFile) -> pl.Series:
    """Column ``c`` of ``df`` checked and converted to the dataset's type."""
    if c.kind == U256:
        return u256(df, c.source, f).alias(c.name)
    if c.kind == TOPICS:
        return topics(df, f)
    col, dtype = pl.col(c.source), df.schema[c.source]
    if c.required and not c.nullable:
        _fail(df, col.is_null(), f, c.source, "is missing")
    if c.kind in (U64, WEI):
        if not dtype.is_integer():
            raise DatasetError(f"{f.path}: column {c.source} is {dtype}, not an integer as cryo's")
        _fail(df, col.cast(pl.Int128) < 0, f, c.source, "is negative")
        as_u64 = col.cast(pl.UInt64)
        return df.select((as_u64.cast(pl.String) if c.kind == WEI else as_u64).alias(c.name))[
            c.name
        ]
    if c.kind == BOOL:
        if dtype != pl.Boolean:
            raise DatasetError(f"{f.path}: column {c.source} is {dtype}, not a boolean as cryo's")
        return df.select(col.cast(pl.UInt64).alias(c.name))[c.name]
    return hex_column(df, c.source, _BYTES[c.kind], f).alias(c.name)


def hex_column(df: pl.DataFrame, source: str, nbytes: int | None, f: CryoFile) -> pl.Series:
    """A binary (or, from ``--hex``, hex text) column as lowercase 0x-hex of ``nbytes`` bytes."""
    col, dtype = pl.col(source), df.schema[source]
    if dtype == pl.Binary:
        body, size = col.bin.encode("hex"), col.bin.size()
    elif dtype == pl.String:
        body = col.str.strip_prefix("0x")
        _fail(df, ~body.str.contains(_HEX), f, source, "is not hex bytes")
        body, size = body.str.to_lowercase(), body.str.len_bytes() // 2
    else:
        raise DatasetError(f"{f.path}: column {source} is {dtype}, not binary or hex text")
    if nbytes is not None:
        _fail(df, size != nbytes, f, source, f"is not {nbytes} bytes")
    return df.select(pl.concat_str(pl.lit("0x"), body).alias(source))[source]


def u256(df: pl.DataFrame, field: str, f: CryoFile) -> pl.Series:
    """uint256 ``field`` as decimal strings from its exact variants, which must agree; refused
    when cryo wrote it only as floats."""
    variants = [f"{field}_{v}" for v in _EXACT if f"{field}_{v}" in df.columns]
    if not variants:
        raise DatasetError(
            f"{f.path} has {field} only as floats, which are not exact; rerun "
            "`cryo transactions --u256-types binary string ...`"
        )
    values: list[list[str | None]] = []
    for name in variants:
        if name.endswith("_binary"):
            raw = hex_column(df, name, 32, f).to_list()
            values.append([None if v is None else str(int(v, 16)) for v in raw])
            continue
        if df.schema[name] != pl.String and not df.schema[name].is_integer():
            raise DatasetError(f"{f.path}: column {name} is {df.schema[name]}, not exact")
        column: list[str | None] = []
        for row, text in enumerate(df[name].cast(pl.String).to_list(), 1):
            try:
                column.append(wei(text))
            except BadValue as exc:
                raise DatasetError(f"{f.row(row)}: {name} {exc}") from None
        values.append(column)
    for name, other in zip(variants[1:], values[1:], strict=True):
        for row, (a, b) in enumerate(zip(values[0], other, strict=True), 1):
            if a != b:
                raise DatasetError(f"{f.row(row)}: {variants[0]} is {a} but {name} is {b}")
    if None in values[0]:
        raise DatasetError(f"{f.row(values[0].index(None) + 1)}: {field} is missing")
    return pl.Series(field, values[0], pl.String())


def topics(df: pl.DataFrame, f: CryoFile) -> pl.Series:
    """cryo's ``topic0``..``topic3`` as the dataset's list of topics (nulls only at the end)."""
    frame = pl.DataFrame([hex_column(df, t, 32, f) for t in _TOPICS]).with_columns(df["_row"])
    for before, after in pairwise(_TOPICS):
        gap = pl.col(before).is_null() & pl.col(after).is_not_null()
        _fail(frame, gap, f, after, f"is set but {before} is null")
    return frame.select(pl.concat_list(_TOPICS).list.drop_nulls().alias("topics"))["topics"]
