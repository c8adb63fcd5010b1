"""`workbench import cryo` on the real mainnet sample (blocks 17173049-17173050, see its
SOURCE.md) converted to cryo's parquet layout, and on files cryo 0.3.2 itself wrote.

The converted files follow cryo's schema as its sources define it: column names and types from
``crates/freeze/src/datasets/blocks.rs``, ``transactions.rs`` and ``logs.rs`` of
paradigmxyz/cryo (0.3.2, plus the block columns ``gas_limit`` and ``difficulty`` of its later
``blocks.rs``), uint256 variants as its ``ToU256Series`` writes them, binary columns or, with
``--hex``, 0x text, files named ``ethereum__DATASET__FIRST_to_LAST.parquet``; a test checks the
types against ``fixtures/cryo/anvil-0.3.2``, written by cryo 0.3.2. Imported, they give the
dataset ``import ethereum-etl`` gives from the same source in every column cryo carries, to the
wei, receipts included (derived from ``gas_used`` and ``success``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.conftest import mainnet_sample
from workbench.chain.tools import project_root
from workbench.cli import app
from workbench.errors import DatasetError
from workbench.sources.dataset import Dataset
from workbench.sources.importers import import_cryo, import_ethereum_etl
from workbench.sources.schema import BLOCK_TABLES, TABLES

FIRST, LAST = 17173049, 17173050
REAL = project_root() / "fixtures" / "cryo" / "anvil-0.3.2"
runner = CliRunner()
CRYO_LACKS = {
    "blocks": {"mix_hash", "withdrawals", "parent_beacon_block_root"}
    | {"blob_gas_used", "excess_blob_gas"},
    "transactions": {"v", "r", "s", "access_list", "raw"}
    | {"max_fee_per_blob_gas", "blob_versioned_hashes"},
    "receipts": set(),
    "logs": set(),
}
"""Dataset columns a cryo export has no value for (all null after the import)."""

Spec = dict[str, tuple[pl.DataType, Callable[[dict[str, Any]], Any]]]


def _bytes(field: str) -> Callable[[dict[str, Any]], bytes | None]:
    return lambda r: None if r.get(field) is None else bytes.fromhex(r[field][2:])


def _int(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r.get(field)


BLOCKS: Spec = {  # cryo's blocks.rs, in its order, from an ethereum-etl block
    "block_hash": (pl.Binary(), _bytes("hash")),
    "parent_hash": (pl.Binary(), _bytes("parent_hash")),
    "author": (pl.Binary(), _bytes("miner")),
    "state_root": (pl.Binary(), _bytes("state_root")),
    "transactions_root": (pl.Binary(), _bytes("transactions_root")),
    "receipts_root": (pl.Binary(), _bytes("receipts_root")),
    "block_number": (pl.UInt32(), _int("number")),
    "gas_used": (pl.UInt64(), _int("gas_used")),
    "gas_limit": (pl.UInt64(), _int("gas_limit")),
    "extra_data": (pl.Binary(), _bytes("extra_data")),
    "logs_bloom": (pl.Binary(), _bytes("logs_bloom")),
    "timestamp": (pl.UInt32(), _int("timestamp")),
    "difficulty": (pl.UInt64(), _int("difficulty")),
    "total_difficulty_binary": (pl.Binary(), lambda r: r["total_difficulty"].to_bytes(32, "big")),
    "total_difficulty_string": (pl.String(), lambda r: str(r["total_difficulty"])),
    "total_difficulty_f64": (pl.Float64(), lambda r: float(r["total_difficulty"])),
    "size": (pl.UInt32(), _int("size")),
    "nonce": (pl.Binary(), _bytes("nonce")),
    "base_fee_per_gas": (pl.UInt64(), _int("base_fee_per_gas")),
    "withdrawals_root": (pl.Binary(), _bytes("withdrawals_root")),
    "chain_id": (pl.UInt64(), lambda r: 1),
}
TRANSACTIONS: Spec = {  # transactions.rs
    "block_number": (pl.UInt32(), _int("block_number")),
    "transaction_index": (pl.UInt64(), _int("transaction_index")),
    "transaction_hash": (pl.Binary(), _bytes("hash")),
    "nonce": (pl.UInt64(), _int("nonce")),
    "from_address": (pl.Binary(), _bytes("from_address")),
    "to_address": (pl.Binary(), _bytes("to_address")),
    "value_binary": (pl.Binary(), lambda r: r["value"].to_bytes(32, "big")),
    "value_string": (pl.String(), lambda r: str(r["value"])),
    "value_f64": (pl.Float64(), lambda r: float(r["value"])),
    "input": (pl.Binary(), _bytes("input")),
    "gas_limit": (pl.UInt64(), _int("gas")),
    "gas_used": (pl.UInt64(), _int("receipt_gas_used")),
    "gas_price": (pl.UInt64(), _int("gas_price")),
    "transaction_type": (pl.UInt32(), _int("transaction_type")),
    "max_priority_fee_per_gas": (pl.UInt64(), _int("max_priority_fee_per_gas")),
    "max_fee_per_gas": (pl.UInt64(), _int("max_fee_per_gas")),
    "success": (pl.Boolean(), lambda r: r["receipt_status"] == 1),
    "n_input_bytes": (pl.UInt32(), lambda r: len(r["input"]) // 2 - 1),
    "block_hash": (pl.Binary(), _bytes("block_hash")),
    "timestamp": (pl.UInt32(), _int("block_timestamp")),
    "chain_id": (pl.UInt64(), lambda r: 1),
}
LOGS: Spec = {  # logs.rs (block_hash: its later sources)
    "block_number": (pl.UInt32(), _int("block_number")),
    "block_hash": (pl.Binary(), _bytes("block_hash")),
    "transaction_index": (pl.UInt32(), _int("transaction_index")),
    "log_index": (pl.UInt32(), _int("log_index")),
    "transaction_hash": (pl.Binary(), _bytes("transaction_hash")),
    "address": (pl.Binary(), _bytes("address")),
    **{f"topic{i}": (pl.Binary(), lambda r, i=i: _topic(r, i)) for i in range(4)},
    "data": (pl.Binary(), _bytes("data")),
    "chain_id": (pl.UInt64(), lambda r: 1),
}
SPECS = {"blocks": BLOCKS, "transactions": TRANSACTIONS, "logs": LOGS}
SORT = {"blocks": ["block_number"], "transactions": ["block_number", "transaction_index"]}


def _topic(row: dict[str, Any], i: int) -> bytes | None:
    return bytes.fromhex(row["topics"][i][2:]) if i < len(row["topics"]) else None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    # json, not orjson: total_difficulty and some values exceed 64 bits
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cryo_frames(hex_: bool = False) -> dict[str, pl.DataFrame]:
    """The mainnet sample as cryo writes it (binary columns, or 0x text with ``--hex``)."""
    frames = {}
    for name, spec in SPECS.items():
        rows = _jsonl(mainnet_sample() / f"{name}.jsonl")
        df = pl.DataFrame(
            {c: [make(r) for r in rows] for c, (_, make) in spec.items()},
            schema={c: dtype for c, (dtype, _) in spec.items()},
        ).sort(SORT.get(name, ["block_number", "log_index"]))
        if hex_:
            binary = [c for c, t in df.schema.items() if t == pl.Binary]
            df = df.with_columns(
                pl.concat_str(pl.lit("0x"), pl.col(c).bin.encode("hex")).alias(c) for c in binary
            )
        frames[name] = df
    return frames


def write_export(folder: Path, frames: dict[str, pl.DataFrame], per_file: int = 1000) -> Path:
    """Files of ``per_file`` blocks each, named as cryo names them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        for first in range(FIRST - FIRST % per_file, LAST + 1, per_file):
            lo, hi = max(first, FIRST), min(first + per_file - 1, LAST)
            part = df.filter(pl.col("block_number").is_between(lo, hi))
            part.write_parquet(folder / f"ethereum__{name}__{lo:08d}_to_{hi:08d}.parquet")
    return folder


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample imported from its ethereum-etl form and, with the CLI, from cryo's."""
    root = tmp_path_factory.mktemp("cryo")
    import_ethereum_etl(mainnet_sample(), root / "etl")
    export = write_export(root / "export", cryo_frames())
    result = runner.invoke(
        app, ["import", "cryo", str(export), "--out", str(root / "cryo")], terminal_width=300
    )
    assert result.exit_code == 0, result.output
    assert f"imported blocks {FIRST}-{LAST}" in result.output
    assert "2 blocks, 298 transactions, 298 receipts, 681 logs" in result.output
    dropped = "blocks.logs_bloom (2), blocks.nonce (2), blocks.total_difficulty (2), blocks.withdrawals_root (2)"
    assert f"not held by the dataset (non-null values dropped): {dropped}" in result.output
    return root / "etl", root / "cryo"


def test_every_column_cryo_carries_equals_ethereum_etl(datasets: tuple[Path, Path]) -> None:
    etl, cryo = (Dataset.open(p) for p in datasets)
    assert cryo.chain_id == 1 and cryo.source == "cryo"
    compared = {}
    for table in BLOCK_TABLES:
        lacks = CRYO_LACKS[table] & set(TABLES[table])
        a, b = etl.read(table), cryo.read(table)
        assert all(b[c].null_count() == b.height for c in lacks), table
        shared = [c for c in TABLES[table] if c not in lacks]
        assert a.select(shared).equals(b.select(shared)), table
        compared[table] = b.height
        assert all(b[c].null_count() < b.height for c in shared if a[c].null_count() < a.height)
    assert compared == {"blocks": 2, "transactions": 298, "receipts": 298, "logs": 681}
    held = set(TABLES["transactions"]) - CRYO_LACKS["transactions"]
    assert {"value", "gas_price", "max_fee_per_gas", "input", "chain_id"} <= held


def test_hex_export_in_several_files_imports_the_same(
    tmp_path: Path, datasets: tuple[Path, Path]
) -> None:
    export = write_export(tmp_path / "hex", cryo_frames(hex_=True), per_file=1)
    assert len(list(export.glob("*.parquet"))) == 6
    summary = import_cryo(export, tmp_path / "out", blocks_per_part=1)
    assert summary.parts == 2 and summary.block_range == (FIRST, LAST)
    a, b = Dataset.open(datasets[1]), Dataset.open(tmp_path / "out")
    for table in BLOCK_TABLES:
        assert a.read(table).equals(b.read(table)), table


def test_the_shapes_are_cryos_own() -> None:
    """Every column the converted files share with files cryo 0.3.2 wrote has its type (Binary
    there, 0x text with --hex); the converted files lack only what is not in cryo 0.3.2 or
    follows from other columns."""
    for hex_ in (False, True):
        ours = cryo_frames(hex_)
        for name in SPECS:
            (real,) = (REAL / ("hex" if hex_ else "binary")).glob(f"*__{name}__*.parquet")
            theirs = pl.read_parquet_schema(real)
            shared = set(theirs) & set(ours[name].schema)
            assert {c: ours[name].schema[c] for c in shared} == {c: theirs[c] for c in shared}
            later = {"gas_limit", "difficulty", "nonce", "withdrawals_root"}
            assert set(ours[name].schema) - set(theirs) <= later | {"block_hash"}
            derived = {"n_input_zero_bytes", "n_input_nonzero_bytes", "n_rlp_bytes"}
            assert set(theirs) - set(ours[name].schema) <= derived


def test_files_cryo_wrote(tmp_path: Path) -> None:
    """cryo 0.3.2's own files: refused for their missing gas_limit; with it, the receipts
    derived from gas_used and success are the node's."""
    with pytest.raises(
        DatasetError, match=r"lacks gas_limit.*--include-columns gas_limit.*0\.3\.2"
    ):
        import_cryo(REAL / "binary", tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    node = json.loads((REAL / "node_receipts.json").read_text())
    expected = [
        {
            "transaction_hash": r["transactionHash"],
            "status": int(r["status"], 16),
            "gas_used": int(r["gasUsed"], 16),
            "cumulative_gas_used": int(r["cumulativeGasUsed"], 16),
            "effective_gas_price": str(int(r["effectiveGasPrice"], 16)),
            "contract_address": r["contractAddress"],
            "type": int(r["type"], 16),
        }
        for r in node
    ]
    for encoding in ("binary", "hex"):
        folder = shutil.copytree(REAL / encoding, tmp_path / encoding)
        (blocks,) = folder.glob("*__blocks__*.parquet")
        df = pl.read_parquet(blocks).with_columns(gas_limit=pl.lit(30_000_000, pl.UInt64))
        df.write_parquet(blocks)
        summary = import_cryo(folder, tmp_path / f"out-{encoding}")
        assert summary.rows == {"blocks": 4, "transactions": 5, "receipts": 5, "logs": 2}
        ds = Dataset.open(tmp_path / f"out-{encoding}")
        assert ds.chain_id == 31337
        receipts = ds.read("receipts").drop("block_number", "transaction_index")
        assert receipts.to_dicts() == expected
        assert ds.read("transactions")["value"][1] == "123456789012345678901"


def test_no_status_before_byzantium(tmp_path: Path) -> None:
    """Mainnet blocks before 4,370,000 have receipts without a status: null, whatever cryo's
    ``success`` says, and not needed there."""
    folder = shutil.copytree(REAL / "binary", tmp_path / "export")
    for path in folder.glob("*.parquet"):
        df = pl.read_parquet(path).with_columns(chain_id=pl.lit(1, pl.UInt64))
        if "__blocks__" in path.name:
            df = df.with_columns(gas_limit=pl.lit(30_000_000, pl.UInt64))
        if "__transactions__" in path.name:
            df = df.drop("success")
        df.write_parquet(path)
    import_cryo(folder, tmp_path / "out")
    receipts = Dataset.open(tmp_path / "out").read("receipts")
    assert receipts["status"].null_count() == 5 and receipts["gas_used"].null_count() == 0


def _drop_column(dataset: str, column: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        for path in folder.glob(f"*__{dataset}__*.parquet"):
            pl.read_parquet(path).drop(column).write_parquet(path)

    return apply


def _rewrite(
    dataset: str, change: Callable[[pl.DataFrame], pl.DataFrame]
) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (path,) = folder.glob(f"*__{dataset}__*.parquet")
        change(pl.read_parquet(path)).write_parquet(path)

    return apply


def _only_first_block(folder: Path) -> None:
    (path,) = folder.glob("*__blocks__*.parquet")
    pl.read_parquet(path).filter(pl.col("block_number") == FIRST).write_parquet(
        folder / f"ethereum__blocks__{FIRST:08d}_to_{FIRST:08d}.parquet"
    )
    path.unlink()


def _truncate(folder: Path) -> None:
    (path,) = folder.glob("*__logs__*.parquet")
    path.write_bytes(path.read_bytes()[:500])


def _empty(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()


def _first_null(column: str) -> pl.Expr:
    return pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col(column))


def _without_tx(index: int) -> Callable[[pl.DataFrame], pl.DataFrame]:
    return lambda df: df.filter(
        ~((pl.col("block_number") == FIRST) & (pl.col("transaction_index") == index))
    )


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_empty, "holds no cryo parquet files; export them with `cryo blocks transactions logs"),
        (
            _drop_column("blocks", "parent_hash"),
            "lacks parent_hash, which the dataset needs; rerun `cryo blocks --include-columns "
            "parent_hash ...`",
        ),
        (
            _drop_column("transactions", "to_address"),
            "lacks to_address, which the dataset needs",
        ),
        (
            _drop_column("transactions", "success"),
            "success is missing (a receipt's status); rerun `cryo transactions --include-columns "
            "success ...`",
        ),
        (_truncate, f"logs__{FIRST:08d}_to_{LAST:08d}.parquet: not a readable parquet file"),
        (_only_first_block, f"block {LAST} is not in "),
        (
            _rewrite("transactions", lambda df: df.drop("value_binary", "value_string")),
            "has value only as floats, which are not exact; rerun `cryo transactions "
            "--u256-types binary string ...`",
        ),
        (
            _rewrite("transactions", _without_tx(5)),
            f"block {FIRST} has 115 transactions, yet transaction_index reaches 115: some are "
            "missing (was the export filtered, by --exclude-failed",
        ),
        (
            _rewrite("transactions", _without_tx(115)),
            "gas but its transactions in the transactions files used 97",
        ),
        (
            _rewrite("logs", lambda df: df.filter(pl.col("log_index") != 3)),
            "logs, yet log_index reaches",
        ),
        (
            _rewrite("blocks", lambda df: df.with_columns(gas_used=pl.col("gas_used") + 1)),
            f"ethereum__blocks__{FIRST:08d}_to_{LAST:08d}.parquet row 1: block {FIRST} used",
        ),
        (
            _rewrite("logs", lambda df: df.with_columns(topic0=_first_null("topic0"))),
            f"logs__{FIRST:08d}_to_{LAST:08d}.parquet row 1: topic1 is set but topic0 is null",
        ),
        (
            _rewrite("transactions", lambda df: df.with_columns(chain_id=pl.lit(5, pl.UInt64))),
            "mixes chains [1, 5]",
        ),
        (
            _rewrite("blocks", lambda df: df.filter(pl.col("block_number") == LAST)),
            f"lacks block {FIRST} of its range {FIRST}-{LAST}",
        ),
        (
            lambda folder: next(folder.glob("*__logs__*")).rename(folder / "logs.parquet"),
            "has no cryo logs files (*__logs__*.parquet)",
        ),
        (
            lambda folder: (folder / f"ethereum__logs__{FIRST:08d}_to_{LAST:08d}.parquet").rename(
                folder / f"ethereum__logs__{FIRST:08d}_to_{LAST:08d}.csv"
            ),
            "is not parquet: only parquet is read, rerun cryo without --csv/--json",
        ),
    ],
)
def test_bad_input_is_named(tmp_path: Path, corrupt: Callable[[Path], None], message: str) -> None:
    folder = write_export(tmp_path / "export", cryo_frames())
    corrupt(folder)
    with pytest.raises(DatasetError) as err:
        import_cryo(folder, tmp_path / "out")
    assert message in str(err.value)
    assert not (tmp_path / "out").exists(), "nothing is written before the whole export is checked"


def test_chain_and_overlap(tmp_path: Path, datasets: tuple[Path, Path]) -> None:
    export = write_export(tmp_path / "export", cryo_frames())
    with pytest.raises(DatasetError, match=r"holds chain 1 \(its files' chain_id\), not 5"):
        import_cryo(export, tmp_path / "five", chain_id=5)
    assert not (tmp_path / "five").exists()
    shutil.copytree(datasets[1], tmp_path / "again")
    before = Dataset.open(tmp_path / "again").manifest["tables"]
    again = runner.invoke(
        app, ["import", "cryo", str(export), "--out", str(tmp_path / "again")], terminal_width=300
    )
    assert again.exit_code == 2 and "overlap" in again.output and "Traceback" not in again.output
    assert Dataset.open(tmp_path / "again").manifest["tables"] == before
    missing = runner.invoke(
        app, ["import", "cryo", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]
    )
    assert missing.exit_code == 2 and "is not a folder" in missing.output
