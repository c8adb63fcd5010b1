"""The report page from hand-made runs (every outcome, two strategies, three pools, a replay
mismatch, amounts beyond 2**64 wei): sections, exact wei, escaping, self-containment, empty
runs and the atomic write."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs

import workbench.report
from workbench.report import BlockStats, write_report
from workbench.report.html import MISMATCH_LIMIT
from workbench.report.tables import TOP_N, eth
from workbench.scoring.metrics import OpportunityRow, summarize

E18 = 10**18
HUGE = 2**70 + 12345  # beyond 2**64 and beyond a float's 53 bits
POOLS = ("0x" + "a1" * 20, "0x" + "b2" * 20, "0x" + "c3" * 20)


def row(block: int, outcome: str, profit: int, *, strategy: str = "cyclic_arb") -> OpportunityRow:
    """An opportunity whose amounts follow the scoring rules (bid half the profit)."""
    ok = outcome != "reverted"
    bid, gas = (profit // 2 if ok else 0), 3 * 10**15 + block
    net = profit - bid - gas if outcome in ("won", "lost_to_competitor") else 0
    return OpportunityRow(
        block=block,
        strategy=strategy,
        key=f"k{block}-{outcome}",
        pools=POOLS[:2] if strategy == "cyclic_arb" else POOLS[1:],
        expected_profit=profit + 7,
        sim_status="success" if ok else "reverted",
        profit=profit if ok else 0,
        bid_paid=bid,
        gas_cost=gas,
        outcome=outcome,
        pnl_upper_bound=net,
        pnl_with_competition=net if outcome == "won" else 0,
    )


@pytest.fixture
def rows() -> list[OpportunityRow]:
    return [
        row(101, "won", HUGE),
        row(101, "lost_to_competitor", 2 * E18, strategy="backrun_arb"),
        row(103, "reverted", E18),
        row(104, "unprofitable_after_gas", 10**15),
        row(106, "won", E18 // 3, strategy="backrun_arb"),
    ]


@pytest.fixture
def blocks() -> list[BlockStats]:
    out = []
    for n in range(100, 108):
        bad = ("0x" + "ee" * 32 + ": gas used 21000 != 21001",) if n == 103 else ()
        opps = {101: 2, 103: 1, 104: 1, 106: 1}.get(n, 0)
        out.append(BlockStats(n, 10, 10 - len(bad), len(bad), opps, bad))
    return out


@pytest.fixture
def run() -> dict[str, Any]:
    return {
        "id": 7,
        "strategy": "cyclic_arb",
        "config": {"min_profit_wei": 2**65, "bid_bps": 5000},
        "dataset": "datasets/devnet",
        "blocks": "100-107",
        "git_sha": "8e400db",
        "created_at": "2025-01-01T00:00:00+00:00",
    }


SECTIONS = (
    "Run",
    "Summary",
    "Cumulative PnL",
    "Opportunities per block",
    "Profit vs gas",
    "Outcomes",
    "Per strategy",
    "Per pool",
    "Top opportunities",
    "Replay fidelity",
)


def section(page: str, heading: str) -> str:
    """The HTML of the section under ``heading``."""
    m = re.search(rf"<h2>{re.escape(heading)}</h2>(.*?)</section>", page, re.S)
    assert m is not None, f"no section {heading!r}"
    return m.group(1)


def page_of(tmp_path: Path, **kwargs: Any) -> str:
    args: dict[str, Any] = {"title": "Run", "run": {"id": 1}, "rows": [], "blocks": []}
    return write_report(tmp_path / "report.html", **(args | kwargs)).read_text()


def test_exports() -> None:
    assert workbench.report.__all__ == ["BlockStats", "render", "write_report"]


def test_every_section_with_exact_wei(
    tmp_path: Path, run: dict[str, Any], rows: list[OpportunityRow], blocks: list[BlockStats]
) -> None:
    page = page_of(tmp_path, title="Run 7", run=run, rows=rows, blocks=blocks)
    assert re.findall(r"<h2>(.*?)</h2>", page) == list(SECTIONS)
    s = summarize(rows)
    summary = section(page, "Summary")
    for wei in (s.gross_profit, s.gas, s.bids, s.net_pnl, s.net_pnl_upper_bound, s.observed_mev):
        assert f'title="{wei} wei"' in summary and f"<code>{wei}</code>" in summary
    assert s.gross_profit > 2**64 and f">{eth(s.gross_profit)}</span> ETH" in summary
    assert "<td>Hit rate</td><td>40.00%</td>" in summary
    top = section(page, "Top opportunities")
    assert f'title="{HUGE} wei"' in top and f'title="{HUGE + 7} wei"' in top  # EVM, expected
    assert str(2**65) in section(page, "Run")  # config printed whole
    for div_id in ("fig-cumulative", "fig-per-block", "fig-profit-gas", "fig-outcomes"):
        assert f'id="{div_id}"' in page
    assert f'"{s.net_pnl_upper_bound}"' in section(page, "Cumulative PnL")  # exact on hover
    fidelity = section(page, "Replay fidelity")
    assert "79 of 80 replayed transactions matched their recording (98.75%)" in fidelity
    assert 'id="fig-fidelity"' in fidelity and "gas used 21000 != 21001" in fidelity
    assert "cyclic_arb" in section(page, "Per strategy")
    assert "backrun_arb" in section(page, "Per strategy")
    assert 'title="0xa1a1' in section(page, "Per pool")
    assert "The blocks record" not in page  # block counts agree with the rows


def test_self_contained(
    tmp_path: Path, run: dict[str, Any], rows: list[OpportunityRow], blocks: list[BlockStats]
) -> None:
    page = page_of(tmp_path, run=run, rows=rows, blocks=blocks)
    assert page.count(get_plotlyjs()) == 1  # plotly.js inline, once
    assert page.count("Plotly.newPlot(") == 5
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    ours = page.replace(get_plotlyjs(), "")  # plotly.js holds URLs it never loads here
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", ours, re.I)
    assert set(re.findall(r'href="([^"]*)"', ours)) == {f"#section-{i}" for i in range(10)}
    assert "http://" not in ours and "https://" not in ours


def test_empty_run_has_notes_not_charts(tmp_path: Path) -> None:
    page = page_of(tmp_path, rows=[], blocks=[])
    assert re.findall(r"<h2>(.*?)</h2>", page) == list(SECTIONS)
    assert "No opportunities in this run." in section(page, "Cumulative PnL")
    assert "No blocks were processed in this run." in section(page, "Replay fidelity")
    assert "<td>Opportunities</td><td>0</td>" in section(page, "Summary")
    assert "Plotly" not in page and len(page) < 20_000  # no plotly.js for no figures


def test_blocks_without_opportunities(tmp_path: Path) -> None:
    blocks = [BlockStats(5, 3, 3, 0, 0), BlockStats(6, 0, 0, 0, 0)]
    page = page_of(tmp_path, blocks=blocks)
    assert "No opportunities in this run." in section(page, "Outcomes")
    assert "3 of 3 replayed transactions matched" in section(page, "Replay fidelity")
    assert page.count("Plotly.newPlot(") == 1
    empty = page_of(tmp_path, blocks=[BlockStats(5, 0, 0, 0, 0)])
    assert "No transactions were replayed in 1 blocks." in section(empty, "Replay fidelity")


def test_text_is_escaped_and_extra_sections_kept(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    bad = row(1, "won", 10**18, strategy=evil)
    page = page_of(
        tmp_path,
        title=f"Run & {evil}",
        run={"note": evil, evil: 1},
        rows=[bad],
        blocks=[BlockStats(1, 1, 0, 1, 1, (evil,))],
        extra_sections=[(f"Tuning {evil}", "<p class='tuned'>best: <b>bid 50%</b></p>")],
    )
    assert evil not in page
    assert "<title>Run &amp; &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert section(page, "Tuning &lt;script&gt;alert(1)&lt;/script&gt;") == (
        "\n<p class='tuned'>best: <b>bid 50%</b></p>"
    )


def test_failed_simulations_left_out_of_the_scatter(tmp_path: Path) -> None:
    failed = replace(row(2, "reverted", 0), sim_status="error", gas_cost=0, key="failed")
    page = page_of(tmp_path, rows=[row(1, "won", 10**18), failed])
    assert "Left out: 1 with a failed simulation" in section(page, "Profit vs gas")
    assert "<td>Opportunities</td><td>2</td>" in section(page, "Summary")


def test_top_opportunities_by_upper_bound(tmp_path: Path) -> None:
    rows = [row(b, "won", (b + 1) * 10**17) for b in range(TOP_N + 10)]
    top = section(page_of(tmp_path, rows=rows), "Top opportunities")
    blocks = [int(b) for b in re.findall(r"<tr><td>(\d+)</td>", top)]
    assert blocks == list(range(TOP_N + 9, 9, -1))


def test_mismatches_listed_up_to_a_limit_and_counts_checked(tmp_path: Path) -> None:
    lots = tuple(f"0x{i:064x}: logs differ" for i in range(MISMATCH_LIMIT + 5))
    page = page_of(
        tmp_path, rows=[row(1, "won", 10**18)], blocks=[BlockStats(1, 600, 95, 505, 3, lots)]
    )
    fidelity = section(page, "Replay fidelity")
    assert fidelity.count("logs differ") == MISMATCH_LIMIT
    assert f"Showing the first {MISMATCH_LIMIT:,} of {MISMATCH_LIMIT + 5:,}." in fidelity
    assert "The blocks record 3 opportunities but 1 were scored." in section(page, "Summary")


def test_mismatch_causes_and_reforks_are_summed(tmp_path: Path) -> None:
    blocks = [
        BlockStats(1, 4, 2, 2, 0, ("a", "b"), (("other", 1), ("prevrandao", 1)), True),
        BlockStats(2, 3, 2, 1, 0, ("c",), (("prevrandao", 1),), True),
        BlockStats(3, 5, 5, 0, 0),
    ]
    fidelity = section(page_of(tmp_path, blocks=blocks), "Replay fidelity")
    assert "9 of 12 replayed transactions matched" in fidelity
    assert "Mismatches by cause: other: 1, prevrandao: 2." in fidelity
    assert "2 diverged block(s) were followed by a fresh fork" in fidelity
    clean = section(page_of(tmp_path, blocks=[BlockStats(3, 5, 5, 0, 0)]), "Replay fidelity")
    assert "by cause" not in clean and "fresh fork" not in clean


@pytest.mark.parametrize(
    ("wei", "text"),
    [
        (0, "0.000000"),
        (499_999_999_999, "0.000000"),
        (500_000_000_000, "0.000001"),
        (-1, "0.000000"),
        (-1_234_567 * 10**12, "-1.234567"),
        (2**70, "1,180.591621"),
        (10**40 + 1, "10,000,000,000,000,000,000,000.000000"),
    ],
)
def test_eth_is_exact_integer_rounding(wei: int, text: str) -> None:
    assert eth(wei) == text


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "deep" / "dir" / "report.html"
    assert write_report(target, title="A", run={}, rows=[], blocks=[]) == target
    assert "<title>A</title>" in target.read_text() and target.stat().st_mode & 0o777 == 0o644

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(target, title="B", run={}, rows=[], blocks=[])
    assert "<title>A</title>" in target.read_text()  # the old report is untouched
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temp file left
