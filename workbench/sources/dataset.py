"""A dataset: a directory of parquet tables plus ``manifest.json``.

Block tables are appended by block range, one file per table per range
(``blocks/000000000100-000000000199.parquet``); mempool rows in numbered parts. Every file is
written under a temporary name and renamed, then the manifest (row counts, sha256 of every
file) is replaced the same way: the manifest is the commit point, so a crash leaves either
the old dataset or the new one, never half of one. Files the manifest does not list are
leftovers of an interrupted append and are ignored (and overwritten by the next one).
Opening validates the manifest, every file's checksum and schema, and says which file is
wrong and how.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from workbench import __version__
from workbench.errors import DatasetError
from workbench.sources.origin import ForkOrigin, Origin, origin_of
from workbench.sources.schema import (
    BLOCK_TABLES,
    REQUIRED,
    SCHEMA_VERSION,
    TABLES,
    empty,
    file_schema_ok,
)

MANIFEST = "manifest.json"
READABLE_VERSIONS = (1, SCHEMA_VERSION)
"""Schema versions this workbench opens; what it writes is ``SCHEMA_VERSION`` (a version-1
dataset appended to becomes version 2: its old files stay as they are)."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def conform(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with exactly the table's columns, in order and types; missing optional columns
    become nulls. Raises ``DatasetError`` for a missing required column or a bad value."""
    schema = TABLES[table]
    unknown = set(df.columns) - set(schema)
    if unknown:
        raise DatasetError(f"{table}: unknown column(s) {sorted(unknown)}; expected {list(schema)}")
    for col in REQUIRED[table]:
        if col not in df.columns:
            raise DatasetError(f"{table}: required column {col!r} is missing")
        if df.height and df[col].null_count():
            raise DatasetError(f"{table}: column {col!r} has {df[col].null_count()} null value(s)")
    try:
        return df.select(
            [
                (pl.col(c) if c in df.columns else pl.lit(None)).cast(t, strict=True).alias(c)
                for c, t in schema.items()
            ]
        )
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise DatasetError(f"{table}: a value does not fit the column type ({exc})") from None


@dataclass(frozen=True, slots=True)
class Part:
    table: str
    path: str  # relative to the dataset directory
    rows: int
    sha256: str
    first_block: int | None = None
    last_block: int | None = None


class Dataset:
    """Open with ``Dataset.open(dir)`` (validates) or start one with ``Dataset.create``."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest

    # ---- creating and opening ----------------------------------------------------------

    @classmethod
    def create(
        cls, root: Path | str, *, chain_id: int, source: str, origin: Origin | None = None
    ) -> Dataset:
        """A new, empty dataset at ``root`` (which must not hold one already); its replay
        starts from ``origin`` (default: a fork of the chain before its first block)."""
        root = Path(root)
        if (root / MANIFEST).exists():
            raise DatasetError(
                f"{root} already holds a dataset; open it to append, or choose another --out"
            )
        root.mkdir(parents=True, exist_ok=True)
        now = _now()
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "chain_id": chain_id,
            "source": source,
            "origin": origin.to_json() if origin is not None else {"kind": ForkOrigin.kind},
            "block_range": None,
            "created_at": now,
            "updated_at": now,
            "workbench_version": __version__,
            "tables": {t: {"rows": 0, "files": []} for t in TABLES},
        }
        ds = cls(root, manifest)
        ds._save_manifest()
        return ds

    @classmethod
    def open(cls, root: Path | str, *, verify: bool = True) -> Dataset:
        """Opens and (by default) verifies every file's checksum and schema."""
        root = Path(root)
        path = root / MANIFEST
        if not path.is_file():
            raise DatasetError(f"{root} is not a dataset: {MANIFEST} is missing")
        try:
            manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{path} is unreadable or not JSON ({exc})") from None
        found = manifest.get("schema_version") if isinstance(manifest, dict) else None
        if found not in READABLE_VERSIONS:
            raise DatasetError(
                f"{path}: schema version {found!r}; this workbench reads "
                f"{', '.join(map(str, READABLE_VERSIONS))}: upgrade the workbench"
            )
        for key in ("chain_id", "source", "tables"):
            if key not in manifest:
                raise DatasetError(f"{path}: missing {key!r}")
        ds = cls(root, manifest)
        if verify:
            ds.verify()
        return ds

    @classmethod
    def open_or_create(cls, root: Path | str, *, chain_id: int, source: str) -> Dataset:
        """Opens the dataset at ``root`` to append to it (same chain), or creates it."""
        if (Path(root) / MANIFEST).exists():
            ds = cls.open(root)
            if ds.chain_id != chain_id:
                raise DatasetError(
                    f"{root} holds chain {ds.chain_id}, not {chain_id}; choose another --out"
                )
            return ds
        return cls.create(root, chain_id=chain_id, source=source)

    # ---- what it holds -----------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        return int(self.manifest["chain_id"])

    @property
    def source(self) -> str:
        return str(self.manifest["source"])

    @property
    def origin(self) -> Origin:
        """Where a replay of this dataset starts (see ``workbench.sources.origin``)."""
        return origin_of(self.manifest, str(self.root))

    @property
    def block_range(self) -> tuple[int, int] | None:
        r = self.manifest.get("block_range")
        return (int(r[0]), int(r[1])) if r else None

    def content_digest(self, first: int, last: int) -> str:
        """sha256 over the checksums of every file a replay of blocks ``first..last`` reads
        (those of the range's blocks, and those not split by block): a run's identity, which
        changes when that data does, not when blocks outside the range are added."""
        h = hashlib.sha256()
        for table in sorted(self.manifest["tables"]):
            for part in self.parts(table):
                lo, hi = part.first_block, part.last_block
                if lo is None or hi is None or (lo <= last and first <= hi):
                    h.update(f"{table}:{part.sha256}\n".encode())
        return h.hexdigest()

    def parts(self, table: str) -> list[Part]:
        return [Part(table=table, **f) for f in self.manifest["tables"][table]["files"]]

    def rows(self, table: str) -> int:
        return int(self.manifest["tables"][table]["rows"])

    def verify(self) -> None:
        """Every listed file exists, matches its sha256, row count and the table's schema."""
        for table in TABLES:
            for part in self.parts(table):
                path = self.root / part.path
                if not path.is_file():
                    raise DatasetError(f"{path}: listed in the manifest but missing")
                digest = _sha256(path)
                if digest != part.sha256:
                    raise DatasetError(
                        f"{path}: checksum mismatch (the file changed or is corrupt)"
                    )
                try:
                    schema = pl.read_parquet_schema(path)
                except Exception as exc:  # polars raises several types for a broken file
                    raise DatasetError(f"{path}: not a readable parquet file ({exc})") from None
                if not file_schema_ok(table, dict(schema)):
                    raise DatasetError(
                        f"{path}: columns {dict(schema)} differ from the {table} schema "
                        f"{TABLES[table]}"
                    )

    def scan(self, table: str) -> pl.LazyFrame:
        files = [str(self.root / p.path) for p in self.parts(table)]
        if not files:
            return empty(table).lazy()
        # a version-1 file lacks the columns version 2 added: they read as nulls
        return pl.scan_parquet(files, schema=TABLES[table], missing_columns="insert")

    def read(self, table: str, blocks: tuple[int, int] | None = None) -> pl.DataFrame:
        """A whole table, or its rows for blocks ``first..last`` (inclusive)."""
        if table not in TABLES:
            raise DatasetError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        lf = self.scan(table)
        if blocks is not None and table in BLOCK_TABLES:
            key = "number" if table == "blocks" else "block_number"
            lf = lf.filter(pl.col(key).is_between(blocks[0], blocks[1]))
        return lf.collect()

    # ---- appending ---------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive write access; the manifest is re-read under the lock, so appends by
        another process since this one opened the dataset are kept, not overwritten."""
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            fresh = Dataset.open(self.root, verify=False).manifest
            self.manifest = fresh
            yield

    def append_blocks(self, first: int, last: int, tables: Mapping[str, pl.DataFrame]) -> None:
        """Adds blocks ``first..last`` (all four block tables, possibly empty) in one commit.
        The range must not overlap what the dataset holds."""
        if last < first:
            raise DatasetError(f"block range {first}-{last} is empty")
        missing = set(BLOCK_TABLES) - set(tables)
        if missing:
            raise DatasetError(f"append_blocks needs all block tables; missing {sorted(missing)}")
        frames = {t: conform(t, tables[t]) for t in BLOCK_TABLES}
        numbers = frames["blocks"]["number"]
        if (
            numbers.n_unique() != last - first + 1
            or numbers.min() != first
            or numbers.max() != last
        ):
            raise DatasetError(f"blocks table must hold each block {first}-{last} exactly once")
        for t in BLOCK_TABLES[1:]:
            bn = frames[t]["block_number"]
            if bn.len() and (bn.min() < first or bn.max() > last):  # type: ignore[operator]
                raise DatasetError(f"{t} has rows outside blocks {first}-{last}")
        with self._locked():
            self._check_free(first, last)
            for t in BLOCK_TABLES:
                self._write_part(t, f"{first:012d}-{last:012d}", frames[t], first, last)
            current = self.block_range
            lo, hi = (
                (first, last)
                if current is None
                else (min(first, current[0]), max(last, current[1]))
            )
            self.manifest["block_range"] = [lo, hi]
            self._save_manifest()

    def _check_free(self, first: int, last: int) -> None:
        for part in self.parts("blocks"):
            assert part.first_block is not None and part.last_block is not None
            if first <= part.last_block and last >= part.first_block:
                raise DatasetError(
                    f"blocks {first}-{last} overlap {part.first_block}-{part.last_block} already in {self.root}"
                )

    def append_mempool(self, df: pl.DataFrame) -> None:
        """Adds pending-transaction rows (one part per call)."""
        frame = conform("mempool", df)
        with self._locked():
            self._write_part("mempool", f"part-{len(self.parts('mempool')):06d}", frame, None, None)
            self._save_manifest()

    def _write_part(
        self, table: str, stem: str, df: pl.DataFrame, first: int | None, last: int | None
    ) -> None:
        rel = f"{table}/{stem}.parquet"
        path = self.root / rel
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        df.write_parquet(tmp, compression="zstd", statistics=True)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        tmp.replace(path)
        entry = {
            "path": rel,
            "rows": df.height,
            "sha256": _sha256(path),
            "first_block": first,
            "last_block": last,
        }
        files = self.manifest["tables"][table]["files"]
        files.append(entry)
        files.sort(key=lambda f: (f["first_block"] is None, f["first_block"] or 0, f["path"]))
        self.manifest["tables"][table]["rows"] += df.height

    def _save_manifest(self) -> None:
        self.manifest["updated_at"] = _now()
        self.manifest["schema_version"] = SCHEMA_VERSION
        _write_atomic(self.root / MANIFEST, json.dumps(self.manifest, indent=2).encode())

    def missing_blocks(self, first: int, last: int) -> list[tuple[int, int]]:
        """The sub-ranges of ``first..last`` the dataset does not hold (for resuming)."""
        held = sorted((p.first_block, p.last_block) for p in self.parts("blocks"))
        gaps, cursor = [], first
        for lo, hi in held:
            assert lo is not None and hi is not None
            if hi < cursor or lo > last:
                continue
            if lo > cursor:
                gaps.append((cursor, lo - 1))
            cursor = max(cursor, hi + 1)
        if cursor <= last:
            gaps.append((cursor, last))
        return gaps

    def summary(self) -> dict[str, Any]:
        return {
            "path": str(self.root),
            "chain_id": self.chain_id,
            "source": self.source,
            "origin": self.manifest.get("origin", {"kind": "fork"})["kind"],
            "block_range": self.block_range,
            "rows": {t: self.rows(t) for t in TABLES},
            "files": sum(len(self.parts(t)) for t in TABLES),
            "created_at": self.manifest.get("created_at"),
            "workbench_version": self.manifest.get("workbench_version"),
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
