"""One self-contained HTML page per run: metadata, summary, figures and tables.

plotly.js is embedded once in the page head, so the file opens offline; every text is
escaped; the file is written atomically (a temp file renamed over the target).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from workbench.files import write_atomically
from workbench.report import figures, tables
from workbench.scoring.metrics import OpportunityRow, by, summarize

MISMATCH_LIMIT = 500
NO_OPPORTUNITIES = "No opportunities in this run."
NO_BLOCKS = "No blocks were processed in this run."
PNL_HEADINGS = (
    "Cumulative PnL",
    "Opportunities per block",
    "Profit vs gas",
    "Outcomes",
    "Per strategy",
    "Per pool",
    "Top opportunities",
)
CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1280px; padding: 1rem 2rem;
       color: #222; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1rem; } .note { color: #666; font-style: italic; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td pre { margin: 0; }
.amount { font-variant-numeric: tabular-nums; border-bottom: 1px dotted #999; cursor: help; }
.address, code { font-family: ui-monospace, monospace; font-size: .85rem; }
.address { white-space: nowrap; }
.outcome.won { color: #2ca02c; } .outcome.reverted { color: #d62728; }
.figure { min-height: 420px; }
"""


@dataclass(frozen=True, slots=True)
class BlockStats:
    """One replayed block: its recorded transactions, how many replayed identically, what
    differed (``engine.fidelity.compare`` messages) and how many opportunities it held."""

    number: int
    tx_count: int
    txs_matched: int
    txs_mismatched: int
    opportunities: int
    mismatches: tuple[str, ...] = ()
    causes: tuple[tuple[str, int], ...] = ()  # mismatches by cause (``engine.block_apply``)
    reforked: bool = False  # a fork replay forked the archive node afresh after this block
    mempool_txs: int = 0  # of its transactions, those a public mempool saw


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _figure(fig: go.Figure, div_id: str) -> str:
    return f'<div class="figure">{figures.fragment(fig, div_id)}</div>'


def _pnl_sections(rows: Sequence[OpportunityRow], numbers: list[int]) -> list[tuple[str, str]]:
    if not rows:
        return [(heading, _note(NO_OPPORTUNITIES)) for heading in PNL_HEADINGS]
    simulated = [r for r in rows if r.sim_status != "error"]
    left_out = len(rows) - len(simulated)
    scatter = _figure(figures.profit_vs_gas(simulated), "fig-profit-gas")
    if left_out:
        scatter += _note(f"Left out: {left_out:,} with a failed simulation (nothing to plot).")
    contents = (
        _figure(figures.cumulative_pnl(rows, numbers), "fig-cumulative"),
        _figure(figures.opportunities_per_block(rows, numbers), "fig-per-block"),
        scatter,
        _figure(figures.outcome_breakdown(rows), "fig-outcomes"),
        tables.group_table("Strategy", by(rows, "strategy")),
        tables.group_table("Pool", by(rows, "pool"), addresses=True),
        tables.top_table(rows),
    )
    return list(zip(PNL_HEADINGS, contents, strict=True))


def _fidelity_section(blocks: Sequence[BlockStats]) -> str:
    if not blocks:
        return _note(NO_BLOCKS)
    ordered = sorted(blocks, key=lambda b: b.number)
    matched = sum(b.txs_matched for b in ordered)
    total = matched + sum(b.txs_mismatched for b in ordered)
    if not total:
        return _note(f"No transactions were replayed in {len(ordered):,} blocks.")
    text = (
        f"<p>{matched:,} of {total:,} replayed transactions matched their recording "
        f"({tables.percent(matched / total)}) over {len(ordered):,} blocks.</p>"
    )
    causes: dict[str, int] = {}
    for b in ordered:
        for cause, n in b.causes:
            causes[cause] = causes.get(cause, 0) + n
    if causes:
        listed_causes = ", ".join(f"{cause}: {n:,}" for cause, n in sorted(causes.items()))
        text += f"<p>Mismatches by cause: {escape(listed_causes)}.</p>"
    reforks = sum(b.reforked for b in ordered)
    if reforks:
        text += (
            f"<p>{reforks:,} diverged block(s) were followed by a fresh fork of the archive "
            "node, so that none changed the blocks after it.</p>"
        )
    fig = figures.fidelity_per_block(
        [b.number for b in ordered],
        [b.txs_matched for b in ordered],
        [b.txs_mismatched for b in ordered],
    )
    mismatches = [(b.number, m) for b in ordered for m in b.mismatches]
    listed = tables.mismatch_table(mismatches, MISMATCH_LIMIT) if mismatches else ""
    return text + _figure(fig, "fig-fidelity") + listed


def _consistency(rows: Sequence[OpportunityRow], blocks: Sequence[BlockStats]) -> str:
    """A warning when the blocks count other opportunities than the rows given."""
    counted = sum(b.opportunities for b in blocks)
    if not blocks or counted == len(rows):
        return ""
    return _note(f"The blocks record {counted:,} opportunities but {len(rows):,} were scored.")


def _anchor(index: int) -> str:
    return f"section-{index}"


def render(
    *,
    title: str,
    run: Mapping[str, Any],
    rows: Sequence[OpportunityRow],
    blocks: Sequence[BlockStats],
    extra_sections: Sequence[tuple[str, str]] = (),
) -> str:
    """The page as a string; ``extra_sections`` bodies are trusted HTML, headings are escaped."""
    numbers = sorted({b.number for b in blocks} | {r.block for r in rows})
    sections = [
        ("Run", tables.run_table(run)),
        ("Summary", _consistency(rows, blocks) + tables.summary_table(summarize(rows))),
        *_pnl_sections(rows, numbers),
        ("Replay fidelity", _fidelity_section(blocks)),
        *extra_sections,
    ]
    nav = " ".join(
        f'<a href="#{_anchor(i)}">{escape(heading)}</a>' for i, (heading, _) in enumerate(sections)
    )
    body = "\n".join(
        f'<section id="{_anchor(i)}"><h2>{escape(heading)}</h2>\n{content}</section>'
        for i, (heading, content) in enumerate(sections)
    )
    empty = _note(NO_BLOCKS + " " + NO_OPPORTUNITIES) if not rows and not blocks else ""
    uses_plotly = 'class="plotly-graph-div"' in body  # extra sections may hold figures too
    plotly_js = f'<script type="text/javascript">{get_plotlyjs()}</script>' if uses_plotly else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n{plotly_js}\n</head>\n"
        f"<body>\n<h1>{escape(title)}</h1>\n{empty}<nav>{nav}</nav>\n{body}\n</body>\n</html>\n"
    )


def write_report(
    path: Path,
    *,
    title: str,
    run: Mapping[str, Any],
    rows: Sequence[OpportunityRow],
    blocks: Sequence[BlockStats],
    extra_sections: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write the run's report to ``path`` atomically (parent directories created)."""
    page = render(title=title, run=run, rows=rows, blocks=blocks, extra_sections=extra_sections)
    return write_atomically(path, page)
