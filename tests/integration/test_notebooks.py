"""The research notebooks run top to bottom on a short devnet, in a kernel on this Python."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ipykernel.kernelspec import install
from nbclient import NotebookClient

from devnet import DevnetConfig, generate
from workbench.engine.params import load_params

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL = "workbench-test"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A short devnet and a database for the notebooks, and a kernel spec that runs this
    interpreter (whatever `python3` kernel the machine has), set in the kernels' environment."""
    root = tmp_path_factory.mktemp("notebooks")
    generate(root / "devnet-history", DevnetConfig(blocks=25))  # not "devnet": the package
    install(kernel_name=KERNEL, prefix=str(root / "jupyter"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WORKBENCH_NOTEBOOK_DATASET", str(root / "devnet-history"))
        env.setenv("WORKBENCH_DB_URL", f"sqlite:///{root / 'runs.db'}")
        env.setenv("JUPYTER_PATH", str(root / "jupyter" / "share" / "jupyter"))
        yield root


def execute(name: str, cwd: Path) -> nbformat.NotebookNode:
    """Runs every cell in a fresh kernel with ``cwd`` as working directory; raises
    CellExecutionError at the first cell that fails."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name=KERNEL, resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Every output's data by MIME type (stream text under text/plain)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                found.append({"text/plain": out["text"]})
            else:
                found.append(out.get("data", {}))
    return found


def test_quickstart_shows_summary_figure_and_report(workdir: Path) -> None:
    shown = outputs(execute("01_quickstart.ipynb", workdir))
    text = "\n".join(str(o.get("text/plain", "")) for o in shown)
    assert "net_pnl_wei" in text and "hit_rate" in text
    assert any(PLOTLY in o for o in shown)
    reports = list((workdir / "reports").glob("run-*.html"))
    assert len(reports) == 1 and reports[0].stat().st_size > 0
    assert str(reports[0]) in text
    assert any("<iframe" in str(o.get("text/html", "")) for o in shown)


def test_strategy_research_compares_custom_strategy(workdir: Path) -> None:
    shown = outputs(execute("02_strategy_research.ipynb", workdir))
    table = next(str(o["text/plain"]) for o in shown if "net_pnl_eth" in str(o.get("text/plain")))
    assert "cyclic_arb" in table and "two_hop_only" in table
    assert any(PLOTLY in o for o in shown)


def test_tuning_compares_tuned_and_baseline_and_writes_params(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "tmp").mkdir(exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(workdir / "tmp"))  # the kernel's temp dir: the params file
    shown = outputs(execute("03_tuning.ipynb", workdir))
    text = "\n".join(str(o.get("text/plain", "")) for o in shown)
    held = re.search(
        r"held-out net PnL: tuned (-?\d+\.\d{6}) ETH, baseline (-?\d+\.\d{6}) ETH", text
    )
    assert held, text
    path = re.search(r"^params: (.+)$", text, re.MULTILINE)
    assert path and "loaded back: True" in text
    params = load_params(Path(path[1]))
    assert params.strategy == "backrun_arb" and params.tuning["trials"] == 4
    scores = params.tuning["held_out"]
    for printed, side in zip(held.groups(), ("tuned", "baseline"), strict=True):
        assert printed == f"{int(scores[side]['net_pnl_wei']) / 10**18:.6f}"
    assert f"--params {path[1]}" in text
    reports = list((workdir / "reports").glob("tuning-*.html"))
    assert len(reports) == 1 and reports[0].stat().st_size > 0
    assert str(reports[0]) in text
    assert sum(PLOTLY in o for o in shown) == 3  # payments, objective, inclusion model


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
