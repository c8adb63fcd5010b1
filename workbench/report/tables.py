"""HTML tables of a run: metadata, summary, per-group scores, top opportunities, mismatches.

Amounts are integers (wei) formatted as ETH with 6 decimals by integer arithmetic; the exact
wei value rides along in a ``title`` attribute (or its own column), so nothing is lost.
Every piece of text is escaped here; callers get safe HTML fragments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from workbench.scoring.metrics import ETH, OpportunityRow, Summary

MICRO = ETH // 10**6
TOP_N = 20
SUMMARY_LABELS = {
    "opportunities": "Opportunities",
    "won": "Won",
    "lost_to_competitor": "Lost to a competitor",
    "reverted": "Reverted",
    "unprofitable_after_gas": "Unprofitable after gas",
    "not_included": "Not included (pays nothing)",
    "gross_profit_wei": "Gross profit (won)",
    "gas_wei": "Gas (won)",
    "bids_wei": "Bids paid (won)",
    "net_pnl_wei": "Net PnL with competition",
    "net_pnl_upper_bound_wei": "Net PnL upper bound",
    "hit_rate": "Hit rate",
    "revert_rate": "Revert rate",
    "capture_rate": "Capture rate",
    "predicted_revert_rate": "Revert rate predicted (following pending txs)",
    "next_block_revert_rate": "Revert rate realised at the next block",
}


def eth(wei: int) -> str:
    """``wei`` in ETH rounded half away from zero to 6 decimals, exactly (no float)."""
    micro = (abs(wei) + MICRO // 2) // MICRO
    sign = "-" if wei < 0 and micro else ""
    return f"{sign}{micro // 10**6:,}.{micro % 10**6:06d}"


def amount(wei: int) -> str:
    """An amount cell: ETH for reading, the exact wei on hover."""
    return f'<span class="amount" title="{wei} wei">{eth(wei)}</span>'


def percent(rate: float) -> str:
    return f"{rate:.2%}"


def short(address: str) -> str:
    """A long hex address shortened for tables, the full one on hover."""
    text = address if len(address) <= 14 else f"{address[:8]}…{address[-4:]}"
    return f'<span class="address" title="{escape(address)}">{escape(text)}</span>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table from escaped headers and cells that are already safe HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    cls = f' class="{escape(css)}"' if css else ""
    return (
        f'<div class="table-wrap"><table{cls}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _meta_value(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        text = json.dumps(value, indent=2, sort_keys=True, default=str)
        return f"<pre>{escape(text)}</pre>"
    return escape(str(value))


def run_table(run: Mapping[str, Any]) -> str:
    """Run metadata as given (id, strategy, config, dataset, blocks, git sha, ...)."""
    return table(("Field", "Value"), ((escape(str(k)), _meta_value(v)) for k, v in run.items()))


def summary_table(summary: Summary) -> str:
    """Every value of ``Summary.as_dict``: counts, ETH with exact wei, rates."""
    rows = []
    for key, value in summary.as_dict().items():
        if key.endswith("_eth"):  # the same amounts as the *_wei keys, shown from those
            continue
        label = escape(SUMMARY_LABELS.get(key, key))
        if key.endswith("_wei"):
            rows.append((label, f"{amount(value)} ETH", f"<code>{value}</code>"))
        elif key.endswith("_rate"):
            rows.append((label, percent(value), ""))
        else:
            rows.append((label, f"{value:,}", ""))
    rows.append(
        (
            "Observed MEV (every successful simulation)",
            f"{amount(summary.observed_mev)} ETH",
            f"<code>{summary.observed_mev}</code>",
        )
    )
    return table(("Metric", "Value", "Exact (wei)"), rows, "summary")


def group_table(heading: str, groups: Mapping[Any, Summary], *, addresses: bool = False) -> str:
    """One row of scores per strategy or pool (``metrics.by``)."""
    headers = [heading, "Opps", "Won", "Lost", "Reverted", "Unprofitable", "Gross profit (ETH)"]
    headers += ["Gas (ETH)", "Bids (ETH)", "Net PnL (ETH)", "Net upper bound (ETH)", "Hit rate"]
    headers += ["Capture rate"]
    rows = [
        (
            short(str(key)) if addresses else escape(str(key)),
            f"{s.opportunities:,}",
            f"{s.won:,}",
            f"{s.lost:,}",
            f"{s.reverted:,}",
            f"{s.unprofitable:,}",
            amount(s.gross_profit),
            amount(s.gas),
            amount(s.bids),
            amount(s.net_pnl),
            amount(s.net_pnl_upper_bound),
            percent(s.hit_rate),
            percent(s.capture_rate),
        )
        for key, s in groups.items()
    ]
    return table(headers, rows, "groups")


def top_table(rows: Sequence[OpportunityRow]) -> str:
    """The ``TOP_N`` opportunities by net upper-bound PnL (ties: earlier block first)."""
    top = sorted(rows, key=lambda r: (-r.pnl_upper_bound, r.block, r.key))[:TOP_N]
    headers = ["Block", "Strategy", "Route (pools)", "Expected profit (ETH)", "EVM profit (ETH)"]
    headers += ["Bid (ETH)", "Gas (ETH)", "Outcome", "Net upper bound (ETH)"]
    headers += ["Net with competition (ETH)"]
    cells = [
        (
            str(r.block),
            escape(r.strategy),
            " → ".join(short(p) for p in r.pools),
            amount(r.expected_profit),
            amount(r.profit),
            amount(r.bid_paid),
            amount(r.gas_cost),
            f'<span class="outcome {escape(r.outcome)}">{escape(r.outcome)}</span>',
            amount(r.pnl_upper_bound),
            amount(r.pnl_with_competition),
        )
        for r in top
    ]
    return table(headers, cells, "top")


def mismatch_table(mismatches: Sequence[tuple[int, str]], limit: int) -> str:
    """Replayed transactions that differ from their recording, the first ``limit`` of them."""
    cells = [(str(block), f"<code>{escape(what)}</code>") for block, what in mismatches[:limit]]
    note = ""
    if len(mismatches) > limit:
        note = f'<p class="note">Showing the first {limit:,} of {len(mismatches):,}.</p>'
    return table(("Block", "What differed"), cells, "mismatches") + note
