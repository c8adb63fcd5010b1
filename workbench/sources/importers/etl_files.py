"""Reading one ethereum-etl export file (newline-delimited JSON or CSV) into a polars frame,
checking every value of the fields asked for and counting the fields left out.

JSON is parsed with the standard library because wei amounts and total difficulty exceed 64
bits (orjson would turn them into floats). CSV cells are strings; "" is null there and lists
(log topics) are comma-joined, as ethereum-etl writes them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import DatasetError
from workbench.sources.importers.common import (
    BadValue,
    address,
    data,
    hash32,
    hash_list,
    topics,
    u64,
    wei,
    withdrawals,
)

SUFFIXES = (".jsonl", ".json", ".csv")
METADATA = frozenset({"type", "item_id", "item_timestamp"})
"""Fields ethereum-etl's stream adds to every row; they follow from the others."""

_DTYPES: dict[Callable[[Any], Any], pl.DataType] = {
    u64: pl.UInt64(),
    wei: pl.String(),
    address: pl.String(),
    hash32: pl.String(),
    data: pl.String(),
    topics: pl.List(pl.String()),
    withdrawals: pl.String(),
    hash_list: pl.String(),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One input field: its ethereum-etl name, the column it becomes, and its check."""

    source: str
    check: Callable[[Any], Any]
    required: bool = True
    column: str = ""

    @property
    def name(self) -> str:
        return self.column or self.source


def find(folder: Path, item: str) -> Path | None:
    """``folder/{item}.jsonl``, ``.json`` or ``.csv``; None if none exists, an error if two do."""
    found = [folder / f"{item}{s}" for s in SUFFIXES if (folder / f"{item}{s}").is_file()]
    if len(found) > 1:
        raise DatasetError(f"{folder} has {' and '.join(p.name for p in found)}; keep one")
    return found[0] if found else None


def read(path: Path, item: str, fields: Sequence[Field]) -> tuple[pl.DataFrame, Counter[str]]:
    """The rows of ``path`` as a frame of ``fields`` plus ``_line`` (the row's line number),
    and the count of non-null values of every other field, as ``{file stem}.{field}`` (what
    the import drops)."""
    columns: dict[str, list[Any]] = {f.name: [] for f in fields}
    lines: list[int] = []
    dropped: Counter[str] = Counter()
    kept = {f.source for f in fields} | METADATA
    for line, row in _rows(path):
        kind = row.get("type")
        if kind is not None and kind != item:
            raise DatasetError(f"{path}:{line}: a {kind!r} row, not a {item} (wrong file?)")
        for f in fields:
            try:
                value = f.check(row.get(f.source))
            except BadValue as exc:
                raise DatasetError(f"{path}:{line}: {f.source} {exc}") from None
            if value is None and f.required:
                raise DatasetError(f"{path}:{line}: {f.source} is missing")
            columns[f.name].append(value)
        for key, value in row.items():
            if key not in kept and value not in (None, "", []):
                dropped[f"{path.stem}.{key}"] += 1
        lines.append(line)
    schema = {f.name: _DTYPES[f.check] for f in fields} | {"_line": pl.UInt64()}
    return pl.DataFrame({**columns, "_line": lines}, schema=schema), dropped


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        if path.suffix == ".csv":
            yield from _csv_rows(path)
            return
        with path.open("rb") as f:
            for number, text in enumerate(f, 1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                    raise DatasetError(f"{path}:{number}: not JSON ({exc})") from None
                if not isinstance(row, dict):
                    raise DatasetError(f"{path}:{number}: not a JSON object")
                yield number, row
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        try:
            for row in reader:
                if None in row or None in row.values():
                    width = len(reader.fieldnames or ())
                    raise DatasetError(
                        f"{path}:{reader.line_num}: the row's cells do not match the header's "
                        f"{width} columns"
                    )
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}:{reader.line_num}: not CSV ({exc})") from None
