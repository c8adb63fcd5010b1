"""`workbench ingest` on a real Anvil: output, resume after Ctrl-C, and clean errors (no
traceback) for bad ranges, corrupt datasets and unreachable nodes; URL secrets never stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from workbench.chain.anvil import Anvil
from workbench.chain.transact import Sender
from workbench.cli import app
from workbench.rpc.redact import redact_url
from workbench.sources.dataset import Dataset
from workbench.sources.ingest import parse_block_range

runner = CliRunner()


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    """A chain of 12 blocks with one transfer each."""
    with Anvil() as anvil:
        sender, to = anvil.rpc.call("eth_accounts")[:2]
        transfer = Sender(anvil.rpc, sender)
        for _ in range(12):
            transfer.send(to, b"", value=1)  # waits for its receipt: Anvil mines asynchronously
        assert anvil.block_number() == 12
        yield anvil


def ingest(*args: str) -> Any:
    return runner.invoke(app, ["ingest", *args])


def clean_error(result: Any, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    text = flat(result.output)
    for needle in needles:
        assert needle in text


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return "".join(text.splitlines())


def test_ingest_prints_a_summary_and_resumes_after_ctrl_c(
    node: Anvil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = str(tmp_path / "d")
    real, calls = Dataset.append_blocks, []

    def ctrl_c_on_second_chunk(self: Dataset, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(self, *args)

    monkeypatch.setattr(Dataset, "append_blocks", ctrl_c_on_second_chunk)
    result = ingest("--rpc", node.url, "--blocks", "0-12", "--out", out, "--chunk", "5")
    clean_error(result, 130, "interrupted", "rerun the same command to resume")
    monkeypatch.undo()
    result = ingest("--rpc", node.url, "--blocks", "0-12", "--out", out, "--chunk", "5")
    assert result.exit_code == 0, result.output
    assert "8 block(s) ingested (8 transactions" in flat(result.output)
    assert "5 already held" in flat(result.output)
    ds = Dataset.open(out)
    assert ds.block_range == (0, 12) and ds.rows("transactions") == 12
    result = ingest("--rpc", node.url, "--blocks", "7", "--out", out)  # one block, already held
    assert "0 block(s) ingested" in flat(result.output) and "1 already held" in flat(result.output)


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ("9-5", "ends at 5, before its start 9; write 5-9"),
        ("5-x", "is not A-B or a block number"),
        ("abc", "is not A-B or a block number"),
        ("-3", "is not A-B or a block number"),
    ],
)
def test_bad_ranges(blocks: str, message: str, tmp_path: Path) -> None:
    result = ingest("--rpc", "http://127.0.0.1:9", "--blocks", blocks, "--out", str(tmp_path))
    clean_error(result, 2, message)
    assert not (tmp_path / "manifest.json").exists()


def test_a_range_beyond_the_head_names_the_head(node: Anvil, tmp_path: Path) -> None:
    result = ingest("--rpc", node.url, "--blocks", "10-99", "--out", str(tmp_path / "d"))
    clean_error(result, 2, "beyond the chain head", "is at block 12", "up to 12")
    assert not (tmp_path / "d").exists()


def test_a_corrupt_dataset_is_named(node: Anvil, tmp_path: Path) -> None:
    out = tmp_path / "d"
    assert ingest("--rpc", node.url, "--blocks", "0-3", "--out", str(out)).exit_code == 0
    part = out / Dataset.open(out).parts("receipts")[0].path
    part.write_bytes(part.read_bytes()[:-40] + b"\0" * 40)
    result = ingest("--rpc", node.url, "--blocks", "0-5", "--out", str(out))
    clean_error(result, 1, "receipts", "checksum mismatch")
    assert str(part) in flat(result.output)
    (out / "manifest.json").write_text("{not json")
    result = ingest("--rpc", node.url, "--blocks", "0-5", "--out", str(out))
    clean_error(result, 1, "manifest.json", "not JSON")


def test_an_unreachable_node_is_a_clean_error(tmp_path: Path) -> None:
    result = ingest("--rpc", "http://127.0.0.1:9", "--blocks", "0-1", "--out", str(tmp_path / "d"))
    clean_error(result, 1, "check that the node is up")


def test_url_secrets_are_not_stored(node: Anvil, tmp_path: Path) -> None:
    url = node.url.replace("http://", "http://user:hunter2@") + "/?apikey=hunter2"
    assert ingest("--rpc", url, "--blocks", "0", "--out", str(tmp_path / "d")).exit_code == 0
    manifest = (tmp_path / "d" / "manifest.json").read_text()
    assert "hunter2" not in manifest
    assert json.loads(manifest)["source"] == f"rpc:{node.url}/?…"
    infura = "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef"
    assert redact_url(infura) == "https://mainnet.infura.io/v3/…"
    assert redact_url("https://eth.llamarpc.com/rpc/ethereum-mainnet") == (
        "https://eth.llamarpc.com/rpc/ethereum-mainnet"
    )


def test_help_and_usage() -> None:
    assert parse_block_range(" 100 - 199 ") == (100, 199) and parse_block_range("7") == (7, 7)
    for args in (["ingest"], ["ingest", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "--blocks" in result.output and "mempool" in result.output
    clean_error(ingest("--rpc", "http://127.0.0.1:9"), 2, "give --rpc URL --blocks A-B --out DIR")
