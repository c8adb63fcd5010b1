"""`workbench doctor` against the real toolchain, and its advice when a tool is missing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from workbench.cli import app


def test_doctor_passes_on_a_set_up_checkout() -> None:
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for tool in ("python", "web3", "anvil", "forge", "cast", "solc", "artifacts"):
        assert tool in result.output
    assert "all checks passed" in result.output


def test_doctor_fails_with_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("WORKBENCH_ANVIL", str(tmp_path / "no-anvil-here"))
    result = CliRunner().invoke(app, ["doctor"], terminal_width=200)
    assert result.exit_code == 1
    assert "anvil" in result.output and "FAIL" in result.output
    assert "WORKBENCH_ANVIL" in result.output
