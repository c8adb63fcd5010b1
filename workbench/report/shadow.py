"""Predicted vs actual for a shadow or live run: what the runner did with each opportunity
(approved, submitted, rejected by reason, skipped), whether the opportunity was still there
at the next block, taken by a competitor or would have been won by our bid, and (live) what
landed and what it realised against what the simulation expected.

Amounts stay ints (wei) and are shown as ETH with the exact wei alongside; latencies are
floats (statistics only).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from workbench.report import tables
from workbench.store import Store, live_action_rows, opportunity_rows, outcome_rows

HEADING = "Predicted vs actual"
MODES = ("shadow", "live")
ROW_LIMIT = 2000
"""Opportunities listed one per row; the summary always counts all of them."""


@dataclass(frozen=True, slots=True)
class ShadowRow:
    """One opportunity of a shadow or live run: the action taken (None if none was
    recorded), the simulation's expected net, the scored outcome and what was realised."""

    block: int
    key: str
    mode: str | None
    action: str | None
    action_reason: str | None
    action_detail: str | None
    target_block: int | None
    expected_pnl: int | None  # the simulation's net: profit - bid - gas
    outcome: str | None
    competitor_tx: str | None
    reverts_next_block: bool | None
    landed: bool | None
    realised_pnl: int | None  # net of gas and bid, live only
    latency_ms: float | None
    tx_hash: str | None
    nonce: int | None
    bundle_hash: str | None


def shadow_rows(store: Store, run_id: int) -> list[ShadowRow]:
    """Every opportunity of the run with its action and outcome, by block (as recorded)."""
    actions = {a["opportunity_id"]: a for a in live_action_rows(store, run_id)}
    outcomes = {o["opportunity_id"]: o for o in outcome_rows(store, run_id)}
    rows = []
    for o in opportunity_rows(store, run_id):
        a, out = actions.get(o["id"], {}), outcomes.get(o["id"], {})
        rows.append(
            ShadowRow(
                block=o["block_number"],
                key=o["key"],
                mode=a.get("mode"),
                action=a.get("action"),
                action_reason=a.get("reason"),
                action_detail=a.get("detail"),
                target_block=a.get("target_block"),
                expected_pnl=a.get("expected_pnl"),
                outcome=out.get("outcome"),
                competitor_tx=out.get("competitor_tx"),
                reverts_next_block=o["reverts_next_block"],
                landed=a.get("landed"),
                realised_pnl=a.get("realised_pnl"),
                latency_ms=a.get("latency_ms"),
                tx_hash=a.get("tx_hash"),
                nonce=a.get("nonce"),
                bundle_hash=a.get("bundle_hash"),
            )
        )
    return rows


def run_mode(rows: Sequence[ShadowRow], engine: Mapping[str, Any] | None = None) -> str | None:
    """``live`` if any opportunity of the run was handled live, ``shadow`` if only shadow
    actions were recorded; without actions, the run's ``engine["mode"]`` (a shadow run
    that found nothing yet); None for a backtest."""
    modes = {r.mode for r in rows if r.action is not None}
    if not modes:
        mode = (engine or {}).get("mode")
        return str(mode) if mode in MODES else None
    return "live" if "live" in modes else "shadow"


def p99(values: Sequence[float]) -> float:
    """The 99th percentile by nearest rank (an observed value, never interpolated)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)]


def _share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,} ({tables.percent(part / whole)})" if whole else "-"


def _wei_row(label: str, wei: int | None) -> tuple[str, str, str]:
    if wei is None:
        return (escape(label), "-", "")
    return (escape(label), f"{tables.amount(wei)} ETH", f"<code>{wei}</code>")


def _by_reason(rows: Sequence[ShadowRow], action: str) -> list[tuple[str, str, str]]:
    counts = Counter(r.action_reason or "(no reason given)" for r in rows if r.action == action)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(f"&nbsp;&nbsp;{escape(reason)}", f"{n:,}", "") for reason, n in ordered]


def _realised_rows(realised: Sequence[ShadowRow]) -> list[tuple[str, str, str]]:
    """Realised net PnL (live) and the expected net of the same opportunities; "-" when
    nothing was realised (a shadow run)."""
    if not realised:
        return [_wei_row("Realised net PnL (live)", None)]
    return [
        _wei_row("Realised net PnL (live)", sum(r.realised_pnl or 0 for r in realised)),
        _wei_row("Expected net PnL of those realised", sum(r.expected_pnl or 0 for r in realised)),
    ]


def summary_table(rows: Sequence[ShadowRow]) -> str:
    """Counts per action (rejections and skips per reason), what became of the
    opportunities, realised vs expected net PnL and the decision latency."""
    acted = [r for r in rows if r.action is not None]
    actions = Counter(r.action for r in acted)
    checked = [r for r in rows if r.reverts_next_block is not None]
    lost = [r for r in rows if r.outcome == "lost_to_competitor"]
    submitted = [r for r in acted if r.action == "submitted"]
    settled = [r for r in submitted if r.landed is not None]
    realised = [r for r in acted if r.realised_pnl is not None]
    latencies = [r.latency_ms for r in acted if r.latency_ms is not None]
    out: list[tuple[str, str, str]] = [("Opportunities", f"{len(rows):,}", "")]
    if len(acted) < len(rows):
        out.append(("Without a recorded action", f"{len(rows) - len(acted):,}", ""))
    out += [
        ("Approved (shadow: not sent)", f"{actions['approved']:,}", ""),
        ("Submitted to relays", f"{actions['submitted']:,}", ""),
        ("Rejected by the risk manager", f"{actions['rejected']:,}", ""),
        *_by_reason(rows, "rejected"),
        ("Skipped", f"{actions['skipped']:,}", ""),
        *_by_reason(rows, "skipped"),
        (
            "Still there at the next block (of those checked)",
            _share(sum(not r.reverts_next_block for r in checked), len(checked)),
            "",
        ),
        (
            "Taken by a competitor",
            f"{len(lost):,} ({sum(r.competitor_tx is not None for r in lost):,} "
            "with the competitor's tx)",
            "",
        ),
        ("Our bid would have won", f"{sum(r.outcome == 'won' for r in rows):,}", ""),
        (
            "Landed (live, of those settled)",
            _share(sum(bool(r.landed) for r in settled), len(settled)),
            "",
        ),
        _wei_row(
            "Expected net PnL (approved or submitted)",
            sum(r.expected_pnl or 0 for r in acted if r.action in ("approved", "submitted")),
        ),
        *_realised_rows(realised),
    ]
    if latencies:
        out.append(("Latency median (ms)", f"{statistics.median(latencies):,.1f}", ""))
        out.append(("Latency p99 (ms)", f"{p99(latencies):,.1f}", ""))
    else:
        out.append(("Latency (ms)", "-", ""))
    return tables.table(("Metric", "Value", "Exact (wei)"), out, "summary shadow")


def _maybe(wei: int | None) -> str:
    return "-" if wei is None else tables.amount(wei)


def _yes_no(flag: bool | None) -> str:
    return "-" if flag is None else ("yes" if flag else "no")


def _action(r: ShadowRow) -> str:
    if r.action is None:
        return "-"
    text = escape(r.action + (f": {r.action_reason}" if r.action_reason else ""))
    if r.action_detail:
        return f'<span title="{escape(r.action_detail)}">{text}</span>'
    return text


def opportunity_table(rows: Sequence[ShadowRow], limit: int = ROW_LIMIT) -> str:
    """One row per opportunity (the first ``limit``): action, expected net, outcome,
    competitor, whether it was still there at the next block, landed and realised."""
    headers = ["Block", "Key", "Action", "Expected net (ETH)", "Outcome", "Competitor tx"]
    headers += ["Still there next block", "Landed", "Realised net (ETH)"]
    cells = [
        (
            str(r.block),
            f"<code>{escape(r.key)}</code>",
            _action(r),
            _maybe(r.expected_pnl),
            "-"
            if r.outcome is None
            else f'<span class="outcome {escape(r.outcome)}">{escape(r.outcome)}</span>',
            "-" if r.competitor_tx is None else tables.short(r.competitor_tx),
            _yes_no(None if r.reverts_next_block is None else not r.reverts_next_block),
            _yes_no(r.landed),
            _maybe(r.realised_pnl),
        )
        for r in rows[:limit]
    ]
    note = ""
    if len(rows) > limit:
        note = f'<p class="note">Showing the first {limit:,} of {len(rows):,}.</p>'
    return tables.table(headers, cells, "shadow-opportunities") + note


def section(rows: Sequence[ShadowRow], mode: str) -> str:
    """The "Predicted vs actual" section body: the mode, the summary, then every row."""
    intro = (
        "Live run: bundles were sent to relays."
        if mode == "live"
        else "Shadow run: nothing was sent; an approved bundle is what would have been sent."
    )
    return f"<p>{escape(intro)}</p>" + summary_table(rows) + opportunity_table(rows)
