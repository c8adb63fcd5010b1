"""What the importers share: value checks (the caller names the file, row and field of a
``BadValue``), the refusal to mix chains, the append of a checked export and the summary an
import returns."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import DatasetError
from workbench.sources.dataset import MANIFEST, Dataset

U64_MAX = 2**64 - 1
U256_MAX = 2**256 - 1
_HEX = re.compile(r"0x[0-9a-fA-F]*\Z")
_DECIMAL = re.compile(r"[0-9]+\Z")


class BadValue(ValueError):
    """A value that does not fit its field; the caller adds where it was."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import added to ``out``; ``dropped`` counts the non-null values of input fields
    the dataset has no column for, keyed ``file.field``."""

    out: Path
    rows: dict[str, int]
    parts: int
    block_range: tuple[int, int] | None = None
    dropped: dict[str, int] = field(default_factory=dict)


def check_target(out: Path, chain_id: int) -> None:
    """Refuses, before any work, to import chain ``chain_id`` into a dataset of another chain."""
    if (out / MANIFEST).exists():
        held = Dataset.open(out, verify=False).chain_id
        if held != chain_id:
            raise DatasetError(
                f"{out} holds chain {held}, not {chain_id}; choose another --out "
                "(or pass --chain-id if the input really is that chain)"
            )


def integer(value: Any, limit: int) -> int | None:
    """A non-negative integer up to ``limit`` from a JSON number or a decimal string ("" and
    None are missing)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and _DECIMAL.match(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadValue(f"is not a non-negative integer: {value!r}")
    if not 0 <= value <= limit:
        raise BadValue(f"is out of range (0..{limit}): {value}")
    return value


def u64(value: Any) -> int | None:
    return integer(value, U64_MAX)


def wei(value: Any) -> str | None:
    """A uint256 as the decimal string the dataset stores."""
    n = integer(value, U256_MAX)
    return None if n is None else str(n)


def hex_of(nbytes: int | None) -> Callable[[Any], str | None]:
    """A checker for 0x-hex of exactly ``nbytes`` bytes (any whole number of bytes if None),
    returned lowercase."""

    def check(value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _HEX.match(value) or len(value) % 2:
            raise BadValue(f"is not 0x-prefixed hex bytes: {_short(value)}")
        if nbytes is not None and len(value) != 2 + 2 * nbytes:
            raise BadValue(f"is not {nbytes} bytes of hex: {_short(value)}")
        return value.lower()

    return check


address = hex_of(20)
hash32 = hex_of(32)
data = hex_of(None)


def topics(value: Any) -> list[str] | None:
    """Log topics: a JSON list, or ethereum-etl's comma-joined CSV cell."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise BadValue(f"is not a list of topics: {_short(value)}")
    return [str(hash32(t)) for t in items if t != ""]


def withdrawals(value: Any) -> str | None:
    """EIP-4895 withdrawals (a JSON list, or its text in a CSV cell) as the dataset's JSON."""
    items = _json_list(value, "withdrawals")
    if items is None:
        return None
    try:
        rows = [
            {
                "index": u64(w["index"]),
                "validator_index": u64(w["validator_index"]),
                "address": address(w["address"]),
                "amount": u64(w["amount"]),  # gwei
            }
            for w in items
        ]
    except (KeyError, TypeError):
        raise BadValue(f"is not a list of withdrawals: {_short(value)}") from None
    return json.dumps(rows, separators=(",", ":"))


def hash_list(value: Any) -> str | None:
    """A list of 32-byte hashes (blob versioned hashes) as JSON text."""
    if isinstance(value, str) and not value.lstrip().startswith("["):
        value = [h for h in value.split(",") if h]  # a CSV cell: comma-joined
    items = _json_list(value, "hashes")
    return None if items is None else json.dumps([hash32(h) for h in items])


def _json_list(value: Any, what: str) -> list[Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value if value.lstrip().startswith("[") else f"[{value}]"  # CSV: comma-joined
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise BadValue(f"is not a JSON list of {what}: {_short(value)}") from None
    if not isinstance(value, list):
        raise BadValue(f"is not a list of {what}: {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def append_export(
    tables: dict[str, pl.DataFrame],
    dropped: Counter[str],
    folder: Path,
    out: Path,
    chain_id: int,
    source: str,
    blocks_per_part: int,
    progress: Callable[[int, int], None] | None,
) -> ImportSummary:
    """Appends an export's checked block tables to ``out`` (created if needed) in parts of at
    most ``blocks_per_part`` consecutive blocks, ``progress(parts_done, parts_total)`` after
    each; nothing when a part overlaps blocks ``out`` holds."""
    numbers = tables["blocks"]["number"].sort().to_list()
    chunks = _chunks(numbers, blocks_per_part)
    ds = Dataset.open_or_create(out, chain_id=chain_id, source=source)
    for first, last in chunks:
        if ds.missing_blocks(first, last) != [(first, last)]:
            lo, hi = ds.block_range or (first, last)
            raise DatasetError(
                f"blocks {first}-{last} of {folder} overlap blocks already in {out} "
                f"({lo}-{hi}); nothing was imported"
            )
    for done, (first, last) in enumerate(chunks, 1):
        ds.append_blocks(first, last, {t: _within(df, t, first, last) for t, df in tables.items()})
        if progress:
            progress(done, len(chunks))
    return ImportSummary(
        out=out,
        rows={t: df.height for t, df in tables.items()},
        parts=len(chunks),
        block_range=(numbers[0], numbers[-1]),
        dropped=dict(dropped),
    )


def _chunks(numbers: list[int], size: int) -> list[tuple[int, int]]:
    """Runs of consecutive block numbers, each at most ``size`` long."""
    chunks: list[tuple[int, int]] = []
    for n in numbers:
        if chunks and n == chunks[-1][1] + 1 and n - chunks[-1][0] < size:
            chunks[-1] = (chunks[-1][0], n)
        else:
            chunks.append((n, n))
    return chunks


def _within(df: pl.DataFrame, table: str, first: int, last: int) -> pl.DataFrame:
    key = "number" if table == "blocks" else "block_number"
    order = {"blocks": ["number"], "logs": ["block_number", "log_index"]}
    df = df.filter(pl.col(key).is_between(first, last))
    return df.sort(order.get(table, ["block_number", "transaction_index"]))
