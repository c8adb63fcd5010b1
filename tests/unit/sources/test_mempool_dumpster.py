"""`workbench import mempool-dumpster`: small files in both formats, every field of every row,
and bad input named by file, row and column (no traceback)."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import rlp
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import DatasetError
from workbench.sources.dataset import Dataset
from workbench.sources.importers import dumpster_files, import_mempool_dumpster
from workbench.sources.importers.raw_decode import RawTx, RawTxError, parse_raw

runner = CliRunner()
CSV_NAMES = {
    "timestamp": "timestamp_ms",
    "chainId": "chain_id",
    "txType": "tx_type",
    "gasPrice": "gas_price",
    "gasTipCap": "gas_tip_cap",
    "gasFeeCap": "gas_fee_cap",
    "dataSize": "data_size",
    "data4Bytes": "data_4bytes",
    "includedAtBlockHeight": "included_at_block_height",
    "includedBlockTimestamp": "included_block_timestamp_ms",
    "inclusionDelayMs": "inclusion_delay_ms",
}
KEY = Account.from_key("0x" + "42" * 32)
T0 = 1_700_000_000_000
CSV_HEADER = [
    "timestamp_ms",
    "hash",
    "chain_id",
    "from",
    "to",
    "value",
    "nonce",
    "gas",
    "gas_price",
    "gas_tip_cap",
    "gas_fee_cap",
    "data_size",
    "data_4bytes",
    "sources",
    "included_at_block_height",
    "included_block_timestamp_ms",
    "inclusion_delay_ms",
    "tx_type",
]


def _signed(tx: dict[str, Any]) -> tuple[str, bytes]:
    s = KEY.sign_transaction(tx)
    raw = bytes(s.raw_transaction)
    return "0x" + keccak(raw).hex(), raw


def _rows() -> list[dict[str, Any]]:
    """A legacy and a 1559 transfer of more than 2**64 wei, a contract creation; included or
    not, seen by several sources or by none."""
    legacy = dict(nonce=5, gasPrice=3 * 10**10, gas=21_000, to=to_checksum_address("0x" + "ab" * 20), value=2**70,
                  data="0x", chainId=1)  # fmt: skip
    eip1559 = dict(type=2, nonce=6, maxFeePerGas=5 * 10**10, maxPriorityFeePerGas=10**9,
                   gas=150_000, to=to_checksum_address("0x" + "cd" * 20), value=2**64 + 1,
                   data="0xa9059cbb" + "00" * 64, chainId=1)  # fmt: skip
    create = dict(type=2, nonce=7, maxFeePerGas=4 * 10**10, maxPriorityFeePerGas=0,
                  gas=500_000, value=0, data="0x6080604052", chainId=1)  # fmt: skip
    out = []
    specs = [
        (legacy, 0, ["local", "bloxroute"], 18_000_000),
        (eip1559, 2, [], 0),
        (create, 2, ["chainbound"], 18_000_001),
    ]
    for i, (tx, kind, sources, included) in enumerate(specs):
        tx_hash, raw = _signed(tx)
        data = bytes.fromhex(str(tx["data"])[2:])
        price = tx.get("gasPrice", tx.get("maxFeePerGas"))
        out.append(
            {
                "timestamp": T0 + i * 1500,
                "hash": tx_hash.upper().replace("0X", "0x") if i == 1 else tx_hash,
                "chainId": "1",
                "txType": kind,
                "from": KEY.address,  # checksummed, as some tools write it
                "to": str(tx.get("to", "")),
                "value": str(tx["value"]),
                "nonce": str(tx["nonce"]),
                "gas": str(tx["gas"]),
                "gasPrice": str(price),
                "gasTipCap": str(tx.get("maxPriorityFeePerGas", price)),
                "gasFeeCap": str(price),
                "dataSize": len(data),
                "data4Bytes": "0x" + data[:4].hex() if len(data) >= 4 else "",
                "sources": sources,
                "includedAtBlockHeight": included,
                "includedBlockTimestamp": T0 + 12_000 if included else 0,
                "inclusionDelayMs": 12_000 - i * 1500 if included else 0,
                "rawTx": raw,
            }
        )
    return out


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    df = pl.DataFrame(rows).with_columns(
        pl.col("timestamp", "includedBlockTimestamp").cast(pl.Datetime("ms")),
        pl.col("sources").cast(pl.List(pl.String())),
        pl.col("rawTx").cast(pl.Binary()),
    )
    df.write_parquet(path)
    return path


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] = CSV_HEADER) -> Path:
    """The dumpster's CSV: snake_case names, sources space-joined, no rawTx."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            cells = {CSV_NAMES.get(k, k): v for k, v in r.items()}
            cells["sources"] = " ".join(r["sources"])
            w.writerow([cells.get(c, "") for c in header])
    return path


def _expected(rows: list[dict[str, Any]], with_raw: bool) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        typed = r["txType"] >= 2
        out.append(
            {
                "hash": r["hash"].lower(),
                "first_seen_ms": r["timestamp"],
                "source": "mempool-dumpster"
                + (":" + ",".join(r["sources"]) if r["sources"] else ""),
                "raw": "0x" + r["rawTx"].hex() if with_raw else None,
                "from": r["from"].lower(),
                "to": r["to"].lower() or None,
                "nonce": int(r["nonce"]),
                "value": r["value"],
                "gas": int(r["gas"]),
                "gas_price": r["gasPrice"],
                "max_fee_per_gas": r["gasFeeCap"] if typed else None,
                "max_priority_fee_per_gas": r["gasTipCap"] if typed else None,
                "input": parse_raw(r["rawTx"]).input if with_raw else None,
                "type": r["txType"],
                "chain_id": 1,
                "included_block": r["includedAtBlockHeight"] or None,
            }
        )
    return out


def _mempool(out: Path) -> list[dict[str, Any]]:
    return Dataset.open(out).read("mempool").to_dicts()


def test_parquet_every_field(tmp_path: Path) -> None:
    rows = _rows()
    summary = import_mempool_dumpster(write_parquet(tmp_path / "day.parquet", rows), tmp_path / "d")
    assert summary.rows == {"mempool": 3} and summary.parts == 1
    got = _mempool(tmp_path / "d")
    assert got == _expected(rows, with_raw=True)
    assert got[0]["value"] == str(2**70) and got[0]["max_fee_per_gas"] is None  # legacy
    assert got[1]["input"].startswith("0xa9059cbb") and got[2]["to"] is None  # creation
    assert Dataset.open(tmp_path / "d").source == "mempool-dumpster"


def test_csv_and_csv_zip_without_raw(tmp_path: Path) -> None:
    rows = _rows()
    path = write_csv(tmp_path / "day.csv", rows)
    import_mempool_dumpster(path, tmp_path / "d")
    assert _mempool(tmp_path / "d") == _expected(rows, with_raw=False)
    with zipfile.ZipFile(tmp_path / "day.csv.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "day.csv")
    import_mempool_dumpster(tmp_path / "day.csv.zip", tmp_path / "z")
    assert _mempool(tmp_path / "z") == _expected(rows, with_raw=False)


def test_batches_become_parts_in_order_with_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dumpster_files, "PARQUET_BATCH", 2)
    rows = [r for _ in range(3) for r in _rows()]
    seen: list[tuple[int, int | None]] = []
    summary = import_mempool_dumpster(
        write_parquet(tmp_path / "f.parquet", rows),
        tmp_path / "d",
        rows_per_part=4,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(2, 9), (4, 9), (6, 9), (8, 9), (9, 9)]
    assert summary.parts == 3 and [
        p.rows for p in Dataset.open(tmp_path / "d").parts("mempool")
    ] == [4, 4, 1]
    more = import_mempool_dumpster(write_csv(tmp_path / "f.csv", rows), tmp_path / "d")
    ds = Dataset.open(tmp_path / "d")
    assert more.parts == 1 and ds.rows("mempool") == 18 and len(ds.parts("mempool")) == 4
    got = _mempool(tmp_path / "d")
    assert got[:9] == _expected(rows, with_raw=True) and got[9:] == _expected(rows, with_raw=False)


def _bad(tmp_path: Path, column: str, value: Any, row: int = 2) -> str:
    rows = _rows()
    rows[row - 1][column] = value
    with pytest.raises(DatasetError) as err:
        import_mempool_dumpster(write_parquet(tmp_path / "bad.parquet", rows), tmp_path / "d")
    assert not (tmp_path / "d").exists(), "a failed import must not leave a dataset behind"
    assert [p.name for p in tmp_path.iterdir()] == ["bad.parquet"], "staged parts are removed"
    return str(err.value)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("hash", "0x1234", "row 2, column hash: is not a 32-byte 0x-hex hash: '0x1234'"),
        ("hash", "0x" + "zz" * 32, "row 2, column hash: is not a 32-byte"),
        ("from", "0xnothex", "row 2, column from: is not a 20-byte"),
        ("nonce", "12x", "row 2, column nonce: is not an unsigned 64-bit integer: '12x'"),
        ("gas", str(2**64), "row 2, column gas: is not an unsigned 64-bit integer"),
        ("value", str(2**256), "row 2, column value: is not a uint256 decimal"),
        ("value", "-5", "row 2, column value: is not a uint256 decimal"),
        ("gasFeeCap", "1e18", "row 2, column gasFeeCap: is not a uint256 decimal"),
        ("chainId", "5", "row 2, column chainId: is not 1 (--chain-id)"),
        ("txType", 0, "row 2, column txType: differs from the type of rawTx"),
        ("rawTx", b"\x02\xf8\x70\x01", "row 2, column rawTx: is truncated"),
        ("rawTx", b"\x02\xc0", "row 2, column rawTx: has 0 fields; a type-2 transaction has 12"),
    ],
)
def test_bad_values_name_file_row_and_column(
    tmp_path: Path, column: str, value: Any, problem: str
) -> None:
    message = _bad(tmp_path, column, value)
    assert str(tmp_path / "bad.parquet") in message and problem in message


def test_raw_of_another_transaction_is_refused(tmp_path: Path) -> None:
    message = _bad(tmp_path, "rawTx", _rows()[2]["rawTx"])
    assert "row 2, column rawTx: hashes to" in message


def test_missing_columns_and_corrupt_files(tmp_path: Path) -> None:
    short = write_csv(
        tmp_path / "short.csv", _rows(), [c for c in CSV_HEADER if c != "gas_fee_cap"]
    )
    with pytest.raises(DatasetError, match=r"short\.csv: missing column\(s\) gas_fee_cap"):
        import_mempool_dumpster(short, tmp_path / "d")
    good = write_parquet(tmp_path / "good.parquet", _rows()).read_bytes()
    (tmp_path / "cut.parquet").write_bytes(good[: len(good) // 2] + good[-8:])
    with pytest.raises(DatasetError, match=r"cut\.parquet: "):
        import_mempool_dumpster(tmp_path / "cut.parquet", tmp_path / "d")
    text = write_csv(tmp_path / "ragged.csv", _rows()).read_text().splitlines()
    (tmp_path / "ragged.csv").write_text("\n".join([*text, text[1].rsplit(",", 3)[0]]) + "\n")
    with pytest.raises(DatasetError, match=r"ragged\.csv: unreadable \(CSV parse error"):
        import_mempool_dumpster(tmp_path / "ragged.csv", tmp_path / "d")
    (tmp_path / "empty.csv").write_text(",".join(CSV_HEADER) + "\n")
    with pytest.raises(DatasetError, match=r"empty\.csv holds no transactions"):
        import_mempool_dumpster(tmp_path / "empty.csv", tmp_path / "d")
    with pytest.raises(DatasetError, match="cannot read"):
        import_mempool_dumpster(tmp_path / "absent.parquet", tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_refuses_a_dataset_of_another_chain(tmp_path: Path) -> None:
    Dataset.create(tmp_path / "d", chain_id=10, source="test")
    with pytest.raises(DatasetError, match="holds chain 10, not 1"):
        import_mempool_dumpster(write_parquet(tmp_path / "f.parquet", _rows()), tmp_path / "d")


def test_cli(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "day.parquet", _rows())
    ok = runner.invoke(app, ["import", "mempool-dumpster", str(path), "--out", str(tmp_path / "d")])
    assert ok.exit_code == 0, ok.output
    assert "imported 3 pending transactions" in ok.output
    rows = _rows()
    rows[1]["nonce"] = "garbage"
    bad = write_parquet(tmp_path / "bad.parquet", rows)
    result = runner.invoke(
        app,
        ["import", "mempool-dumpster", str(bad), "--out", str(tmp_path / "e")],
        terminal_width=300,
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "bad.parquet: row 2, column nonce: is not an unsigned 64-bit integer" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_parse_raw_of_each_type() -> None:
    key = Account.from_key("0x" + "07" * 32)
    to = to_checksum_address("0x" + "33" * 20)
    base = dict(nonce=1, gas=60_000, to=to, value=3, data="0xdeadbeef", chainId=1)
    for tx in (
        {**base, "gasPrice": 7},
        {
            **base,
            "type": 1,
            "gasPrice": 7,
            "accessList": [{"address": to, "storageKeys": ["0x" + "00" * 32]}],
        },
        {**base, "type": 2, "maxFeePerGas": 9, "maxPriorityFeePerGas": 1},
    ):
        signed = key.sign_transaction(tx)
        raw = bytes(signed.raw_transaction)
        parsed = parse_raw(raw)
        assert (parsed.type, parsed.input) == (tx.get("type", 0), "0xdeadbeef")
        assert parsed.hash == "0x" + bytes(signed.hash).hex()
    blob_tx = [1, 2, 3, 4, 60_000, bytes(20), 0, b"\xde\xad\xbe\xef", [], 5, [bytes(32)], 1, 2, 3]
    canonical = b"\x03" + rlp.encode(blob_tx)
    network = b"\x03" + rlp.encode([blob_tx, b"\x01", [bytes(64)], [bytes(48)], [bytes(48)]])
    for raw in (canonical, network):  # EIP-4844: the hash leaves the sidecar out
        assert parse_raw(raw) == RawTx(
            type=3, input="0xdeadbeef", hash="0x" + keccak(canonical).hex()
        )
    for junk in (b"", b"\x80", b"\xc1", b"\x02\xc0\x00"):
        with pytest.raises(RawTxError):
            parse_raw(junk)
