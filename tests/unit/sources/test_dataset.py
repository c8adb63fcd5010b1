"""The dataset format: atomic appends, resumable ranges, and clear errors for corrupt files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from workbench.errors import DatasetError
from workbench.sources.dataset import MANIFEST, Dataset
from workbench.sources.schema import ADDED_IN_2, SCHEMA_VERSION, TABLES


def block_tables(first: int, last: int) -> dict[str, pl.DataFrame]:
    numbers = list(range(first, last + 1))
    h = [f"0x{n:064x}" for n in numbers]
    blocks = pl.DataFrame(
        {
            "number": numbers,
            "hash": h,
            "parent_hash": [f"0x{n - 1:064x}" if n else "0x" + "0" * 64 for n in numbers],
            "timestamp": [1_700_000_000 + 12 * n for n in numbers],
            "gas_limit": [30_000_000] * len(numbers),
            "gas_used": [21_000] * len(numbers),
            "base_fee_per_gas": [str(10**9)] * len(numbers),
        }
    )
    txs = pl.DataFrame(
        {
            "block_number": numbers,
            "transaction_index": [0] * len(numbers),
            "hash": [f"0x{n + 10**6:064x}" for n in numbers],
            "from": ["0x" + "11" * 20] * len(numbers),
            "to": ["0x" + "22" * 20] * len(numbers),
            "nonce": numbers,
            "gas": [21_000] * len(numbers),
            "input": ["0x"] * len(numbers),
            "value": [str(2**200)] * len(numbers),
        }
    )
    receipts = pl.DataFrame(
        {
            "block_number": numbers,
            "transaction_index": [0] * len(numbers),
            "transaction_hash": txs["hash"],
            "status": [1] * len(numbers),
            "gas_used": [21_000] * len(numbers),
            "cumulative_gas_used": [21_000] * len(numbers),
        }
    )
    logs = pl.DataFrame(schema=TABLES["logs"])
    return {"blocks": blocks, "transactions": txs, "receipts": receipts, "logs": logs}


def test_append_read_and_resume(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "d", chain_id=1, source="test")
    ds.append_blocks(0, 9, block_tables(0, 9))
    ds.append_blocks(20, 29, block_tables(20, 29))
    assert ds.missing_blocks(0, 35) == [(10, 19), (30, 35)]
    ds.append_blocks(10, 19, block_tables(10, 19))  # fills the gap
    again = Dataset.open(tmp_path / "d")
    assert again.block_range == (0, 29) and again.missing_blocks(0, 29) == []
    assert again.rows("transactions") == 30
    assert again.read("blocks", (5, 12))["number"].to_list() == list(range(5, 13))
    assert again.read("transactions")["value"][0] == str(2**200)  # uint256 exact
    with pytest.raises(DatasetError, match="overlap"):
        again.append_blocks(25, 31, block_tables(25, 31))


def test_mempool_parts(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "d", chain_id=1, source="test")
    ds.append_mempool(pl.DataFrame({"hash": ["0x01"], "first_seen_ms": [1], "source": ["node"]}))
    ds.append_mempool(
        pl.DataFrame({"hash": ["0x02"], "first_seen_ms": [2], "source": ["node"], "nonce": [3]})
    )
    assert Dataset.open(tmp_path / "d").read("mempool")["hash"].to_list() == ["0x01", "0x02"]


def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "d", chain_id=1, source="test")
    tables = block_tables(0, 3)
    with pytest.raises(DatasetError, match="required column 'hash'"):
        ds.append_blocks(0, 3, {**tables, "blocks": tables["blocks"].drop("hash")})
    with pytest.raises(DatasetError, match="exactly once"):
        ds.append_blocks(0, 4, tables)
    with pytest.raises(DatasetError, match="unknown column"):
        ds.append_blocks(0, 3, {**tables, "logs": pl.DataFrame({"bogus": [1]})})
    assert Dataset.open(tmp_path / "d").block_range is None
    assert not list((tmp_path / "d").glob("*/*.parquet"))


def test_corruption_is_named(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "d", chain_id=1, source="test")
    ds.append_blocks(0, 3, block_tables(0, 3))
    part = tmp_path / "d" / ds.parts("transactions")[0].path
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(
        DatasetError, match=r"transactions/000000000000-000000000003.parquet: checksum mismatch"
    ):
        Dataset.open(tmp_path / "d")
    part.unlink()
    with pytest.raises(DatasetError, match="missing"):
        Dataset.open(tmp_path / "d")
    (tmp_path / "d" / MANIFEST).write_text("{not json")
    with pytest.raises(DatasetError, match="not JSON"):
        Dataset.open(tmp_path / "d")
    (tmp_path / "d" / MANIFEST).write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(DatasetError, match="schema version 99"):
        Dataset.open(tmp_path / "d")
    with pytest.raises(DatasetError, match="not a dataset"):
        Dataset.open(tmp_path / "nowhere")


def test_a_crash_before_the_manifest_leaves_the_old_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = Dataset.create(tmp_path / "d", chain_id=1, source="test")
    ds.append_blocks(0, 3, block_tables(0, 3))

    def crash() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ds, "_save_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        ds.append_blocks(4, 7, block_tables(4, 7))
    reopened = Dataset.open(tmp_path / "d")  # the parts of 4-7 exist but are not listed
    assert reopened.block_range == (0, 3) and reopened.missing_blocks(0, 7) == [(4, 7)]
    reopened.append_blocks(4, 7, block_tables(4, 7))
    assert Dataset.open(tmp_path / "d").rows("blocks") == 8


def test_two_writers_keep_each_others_appends(tmp_path: Path) -> None:
    """Two handles on one dataset (e.g. a recorder and a block ingest): no entry is lost."""
    Dataset.create(tmp_path / "d", chain_id=1, source="test")
    a, b = Dataset.open(tmp_path / "d"), Dataset.open(tmp_path / "d")
    a.append_blocks(0, 3, block_tables(0, 3))
    b.append_mempool(pl.DataFrame({"hash": ["0x01"], "first_seen_ms": [1], "source": ["node"]}))
    with pytest.raises(DatasetError, match="overlap"):
        b.append_blocks(2, 5, block_tables(2, 5))  # b sees a's blocks although it opened before
    b.append_blocks(4, 5, block_tables(4, 5))
    final = Dataset.open(tmp_path / "d")
    assert final.block_range == (0, 5) and final.rows("mempool") == 1 and final.rows("blocks") == 6


def test_a_version_1_dataset_still_opens_reads_and_grows(tmp_path: Path) -> None:
    """Written before schema version 2 added the withdrawals, blob and beacon-root columns: its
    files lack them (read as nulls); an append writes version-2 files beside the old ones."""
    ds = Dataset.create(tmp_path / "d", chain_id=1, source="test")
    ds.append_blocks(0, 9, block_tables(0, 9))
    manifest = json.loads((tmp_path / "d" / MANIFEST).read_text())
    for table, added in ADDED_IN_2.items():
        for entry in manifest["tables"][table]["files"]:
            path = tmp_path / "d" / entry["path"]
            pl.read_parquet(path).drop(added).write_parquet(path)
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest["schema_version"] = 1
    (tmp_path / "d" / MANIFEST).write_text(json.dumps(manifest))

    old = Dataset.open(tmp_path / "d")  # verified: checksums and the version-1 columns
    blocks = old.read("blocks")
    assert blocks.columns == list(TABLES["blocks"]) and blocks["withdrawals"].null_count() == 10
    old.append_blocks(10, 12, block_tables(10, 12))
    grown = Dataset.open(tmp_path / "d")
    assert grown.manifest["schema_version"] == SCHEMA_VERSION
    assert grown.read("transactions").height == 13

    manifest["schema_version"] = SCHEMA_VERSION + 1
    (tmp_path / "d" / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="upgrade the workbench"):
        Dataset.open(tmp_path / "d")
