"""`workbench import ethereum-etl` on the real mainnet sample (blocks 17173049-17173050, see
its SOURCE.md): 2 blocks, 298 transactions, 681 logs round-trip exactly.

Exporting the imported dataset back to ethereum-etl rows gives, for every row, every field
the two formats share with the original's value and JSON type (36 block values, 6,854
transaction values, 8,172 log values). The fields missing from the export are exactly the
documented ``NOT_HELD`` ones this sample has. The CSV form of the same export imports to the
same dataset, and bad input is named by file, line and field.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import mainnet_sample
from workbench.cli import app
from workbench.errors import DatasetError
from workbench.sources.dataset import Dataset
from workbench.sources.importers import NOT_HELD, export_ethereum_etl, import_ethereum_etl
from workbench.sources.schema import BLOCK_TABLES

FIRST, LAST = 17173049, 17173050
runner = CliRunner()


def _jsonl(path: Path) -> list[dict[str, Any]]:
    # json, not orjson: total_difficulty and some values exceed 64 bits
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("etl") / "dataset"
    summary = import_ethereum_etl(mainnet_sample(), out)
    assert summary.rows == {"blocks": 2, "transactions": 298, "receipts": 298, "logs": 681}
    assert summary.block_range == (FIRST, LAST) and summary.parts == 1
    dropped = ("nonce", "sha3_uncles", "logs_bloom", "total_difficulty", "withdrawals_root")
    assert summary.dropped == {f"blocks.{f}": 2 for f in dropped}
    return out


def test_round_trip_every_shared_field(imported: Path) -> None:
    exported = export_ethereum_etl(Dataset.open(imported))
    compared: dict[str, tuple[int, int]] = {}
    missing: dict[str, set[str]] = {}
    for name, kind, key in (
        ("blocks", "block", "hash"),
        ("transactions", "transaction", "hash"),
        ("logs", "log", "item_id"),
    ):
        original = {r[key]: r for r in _jsonl(mainnet_sample() / f"{name}.jsonl")}
        rows = exported[name]
        assert sorted(r[key] for r in rows) == sorted(original)
        values = 0
        missing[kind] = set()
        for row in rows:
            source = original[row[key]]
            assert set(row) <= set(source), f"{name}: fields ethereum-etl does not have"
            missing[kind] |= set(source) - set(row)
            for field, value in row.items():
                assert (value, type(value)) == (source[field], type(source[field])), (
                    name,
                    row[key],
                    field,
                )
                values += 1
        compared[name] = (len(rows), values)
    assert compared == {"blocks": (2, 38), "transactions": (298, 6854), "logs": (681, 8172)}
    assert missing == {
        "block": {
            "nonce",
            "sha3_uncles",
            "logs_bloom",
            "total_difficulty",
            "withdrawals_root",
        },
        "transaction": {
            "receipt_root",
            "receipt_l1_fee",
            "receipt_l1_gas_used",
            "receipt_l1_gas_price",
            "receipt_l1_fee_scalar",
        },
        "log": set(),
    }
    assert all(missing[k] <= set(NOT_HELD[k]) for k in missing)


def test_what_ethereum_etl_does_not_say(imported: Path) -> None:
    """No signatures or raw bytes; chain id only where the type implies it."""
    txs = Dataset.open(imported).read("transactions")
    assert txs["raw"].null_count() == txs["v"].null_count() == 298
    typed = txs.filter(txs["type"] >= 1)
    assert typed.height == 250 and typed["chain_id"].to_list() == [1] * 250
    assert txs.filter(txs["type"] == 0)["chain_id"].null_count() == 48


def _write_csv(
    path: Path, rows: list[dict[str, Any]], rename: dict[str, str] | None = None
) -> None:
    """Rows as ethereum-etl's CSV exporter writes them: "" for null, lists comma-joined."""
    rename = rename or {}
    fields = [rename.get(k, k) for k in rows[0] if k not in ("type", "item_id", "item_timestamp")]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            cells = {rename.get(k, k): v for k, v in row.items()}
            w.writerow({k: _cell(v) for k, v in cells.items() if k in fields})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    return str(value)


def test_csv_export_with_a_receipts_file_imports_the_same(tmp_path: Path, imported: Path) -> None:
    src = mainnet_sample()
    _write_csv(tmp_path / "blocks.csv", _jsonl(src / "blocks.jsonl"))
    _write_csv(tmp_path / "logs.csv", _jsonl(src / "logs.jsonl"))
    txs = _jsonl(src / "transactions.jsonl")
    _write_csv(
        tmp_path / "transactions.csv",
        [{k: v for k, v in t.items() if not k.startswith("receipt_")} for t in txs],
    )
    receipts = [
        {
            "transaction_hash": t["hash"],
            "transaction_index": t["transaction_index"],
            "block_hash": t["block_hash"],
            "block_number": t["block_number"],
            **{k.removeprefix("receipt_"): v for k, v in t.items() if k.startswith("receipt_")},
        }
        for t in txs
    ]
    _write_csv(tmp_path / "receipts.csv", receipts)
    assert import_ethereum_etl(tmp_path, tmp_path / "from-csv", blocks_per_part=1).parts == 2
    a, b = Dataset.open(imported), Dataset.open(tmp_path / "from-csv")
    for table in BLOCK_TABLES:
        assert a.read(table).equals(b.read(table)), table


def test_importing_twice_is_an_overlap(imported: Path) -> None:
    before = Dataset.open(imported).manifest["tables"]
    with pytest.raises(
        DatasetError, match=f"blocks {FIRST}-{LAST} .* overlap .*nothing was imported"
    ):
        import_ethereum_etl(mainnet_sample(), imported)
    with pytest.raises(DatasetError, match="holds chain 1, not 5"):
        import_ethereum_etl(mainnet_sample(), imported, chain_id=5)
    assert Dataset.open(imported).manifest["tables"] == before


def _edit(name: str, line: int, change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    """Changes row ``line`` of ``name`` (``change`` returns the new row, a string, or None to
    delete the line)."""

    def apply(folder: Path) -> None:
        path = folder / name
        lines = path.read_text().splitlines()
        new = change(json.loads(lines[line - 1]))
        if new is None:
            del lines[line - 1]
        else:
            lines[line - 1] = new if isinstance(new, str) else json.dumps(new)
        path.write_text("\n".join(lines) + "\n")

    return apply


def _set(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda row: {**row, **fields}


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_edit("logs.jsonl", 10, lambda r: json.dumps(r)[:50]), "logs.jsonl:10: not JSON"),
        (
            _edit("transactions.jsonl", 3, _set(value="12abc")),
            "transactions.jsonl:3: value is not a non-negative integer: '12abc'",
        ),
        (
            _edit("transactions.jsonl", 4, _set(value=-1)),
            "transactions.jsonl:4: value is out of range",
        ),
        (
            _edit("transactions.jsonl", 5, _set(to_address="0x1234")),
            "transactions.jsonl:5: to_address is not 20 bytes of hex: '0x1234'",
        ),
        (
            _edit("transactions.jsonl", 6, _set(gas=2**64)),
            "transactions.jsonl:6: gas is out of range",
        ),
        (
            _edit("transactions.jsonl", 7, lambda r: None),
            f"blocks.jsonl:1: block {FIRST} has transaction_count 116 but",
        ),
        (_edit("transactions.jsonl", 8, _set(hash=None)), "transactions.jsonl:8: hash is missing"),
        (
            _edit("transactions.jsonl", 2, _set(chain_id=5)),
            "transactions.jsonl:2: chain_id 5, but importing chain 1 (--chain-id)",
        ),
        (
            _edit("transactions.jsonl", 10, _set(receipt_gas_used=None)),
            "transactions.jsonl:10: receipt_gas_used or its cumulative is missing",
        ),
        (
            _edit("transactions.jsonl", 9, _set(block_hash="0x" + "00" * 32)),
            f"transactions.jsonl:9: block {FIRST} has another hash in",
        ),
        (
            _edit("logs.jsonl", 3, _set(transaction_hash="0x" + "11" * 32)),
            "logs.jsonl:3: transaction 0x1111",
        ),
        (_edit("logs.jsonl", 4, _set(topics="0xdd")), "logs.jsonl:4: topics is not 32 bytes"),
        (_edit("logs.jsonl", 5, _set(type="block")), "logs.jsonl:5: a 'block' row, not a log"),
        (_edit("logs.jsonl", 6, _set(block_number=1)), "logs.jsonl:6: block 1 is not in"),
        (
            lambda folder: (folder / "logs.jsonl").unlink(),
            "has no logs.jsonl, logs.json or logs.csv",
        ),
        (
            lambda folder: (folder / "blocks.csv").write_text("number\n"),
            "has blocks.jsonl and blocks.csv",
        ),
    ],
)
def test_bad_input_is_named(tmp_path: Path, corrupt: Callable[[Path], None], message: str) -> None:
    folder = tmp_path / "export"
    shutil.copytree(mainnet_sample(), folder)
    corrupt(folder)
    with pytest.raises(DatasetError) as err:
        import_ethereum_etl(folder, tmp_path / "out")
    assert message in str(err.value)
    assert not (tmp_path / "out").exists(), "nothing is written before the whole export is checked"


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "d"
    ok = runner.invoke(
        app,
        ["import", "ethereum-etl", str(mainnet_sample()), "--out", str(out)],
        terminal_width=300,
    )
    assert ok.exit_code == 0, ok.output
    assert f"imported blocks {FIRST}-{LAST}" in ok.output
    assert "2 blocks, 298 transactions, 298 receipts, 681 logs" in ok.output
    assert "blocks.total_difficulty (2)" in ok.output
    again = runner.invoke(
        app,
        ["import", "ethereum-etl", str(mainnet_sample()), "--out", str(out)],
        terminal_width=300,
    )
    assert again.exit_code == 2 and "overlap" in again.output and "Traceback" not in again.output
    missing = runner.invoke(
        app, ["import", "ethereum-etl", str(tmp_path / "nope"), "--out", str(out)]
    )
    assert missing.exit_code == 2 and "is not a folder" in missing.output
