"""`workbench datasets list` / `show`: contents shown, corruption named without a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.unit.sources.test_dataset import block_tables
from workbench.cli import app
from workbench.sources.dataset import Dataset

runner = CliRunner()


def test_list_and_show(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "alpha", chain_id=7, source="test-source")
    ds.append_blocks(100, 104, block_tables(100, 104))
    listed = runner.invoke(app, ["datasets", "list", "--root", str(tmp_path)], terminal_width=200)
    assert listed.exit_code == 0 and "alpha" in listed.output and "100-104" in listed.output
    shown = runner.invoke(app, ["datasets", "show", str(tmp_path / "alpha")], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert (
        "chain id 7" in shown.output
        and "verified" in shown.output
        and "transactions" in shown.output
    )


def test_show_names_a_corrupt_file(tmp_path: Path) -> None:
    ds = Dataset.create(tmp_path / "beta", chain_id=1, source="test")
    ds.append_blocks(0, 2, block_tables(0, 2))
    (tmp_path / "beta" / ds.parts("logs")[0].path).write_bytes(b"garbage")
    result = runner.invoke(app, ["datasets", "show", str(tmp_path / "beta")], terminal_width=300)
    assert result.exit_code == 2
    assert "logs/000000000000-000000000002.parquet" in result.output and "checksum" in result.output
    assert "Traceback" not in result.output
