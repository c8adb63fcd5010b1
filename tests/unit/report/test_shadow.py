"""The "Predicted vs actual" section of a shadow or live run's report, from runs recorded in a
SQLite store: counts per action and reason, what became of the opportunities, exact amounts,
latency, the mode in the title; a backtest's report has no such section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.unit.store.store_contract import TX, block, live_action, opportunity, spec
from workbench.report.run_report import write_run_report
from workbench.report.shadow import HEADING, ShadowRow, opportunity_table, p99, shadow_rows
from workbench.report.tables import eth
from workbench.store import (
    OpportunityRecord,
    OutcomeKind,
    OutcomeRecord,
    RunInfo,
    Store,
    open_store,
)

HUGE = 2**70 + 1  # beyond a float's 53 bits
LIVE_URL = "live:http://127.0.0.1:8545"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        yield store


def section(page: str, heading: str) -> str:
    m = re.search(rf"<h2>{re.escape(heading)}</h2>(.*?)</section>", page, re.S)
    assert m is not None, f"no section {heading!r}"
    return m.group(1)


def metric(html: str, label: str) -> str:
    """The value cell of the summary row ``label``."""
    m = re.search(rf"<tr><td>{re.escape(label)}</td><td>(.*?)</td>", html)
    assert m is not None, f"no row {label!r}"
    return m.group(1)


def opp(
    key: str, outcome: OutcomeKind, *, reverts: bool | None, **action: Any
) -> OpportunityRecord:
    scored = OutcomeRecord(
        outcome=outcome,
        pnl_upper_bound=1,
        pnl_with_competition=1 if outcome == OutcomeKind.WON else 0,
        competitor_tx=TX if outcome == OutcomeKind.LOST_TO_COMPETITOR else None,
    )
    shadow = {
        "mode": "shadow",
        "action": "approved",
        "tx_hash": None,
        "nonce": None,
        "bundle_hash": None,
        "relays": (),
        "landed": None,
        "realised_pnl": None,
    }
    return replace(
        opportunity(key),
        outcome=scored,
        reverts_next_block=reverts,
        action=live_action(**(shadow | action)),
    )


def record_live_run(store: Store, mode: str, blocks: list[list[OpportunityRecord]]) -> RunInfo:
    """A run that starts at block 10 and grows with each block, as the live runner's does."""
    run = store.start_or_resume_run(
        spec(dataset_path=LIVE_URL, first_block=10, last_block=10, engine={"mode": mode})
    )
    for number, opportunities in enumerate(blocks, start=10):
        run = store.extend_run(run, number)
        store.record_block(run, block(number), opportunities)
    return run


def shadow_run(store: Store) -> RunInfo:
    won, lost = OutcomeKind.WON, OutcomeKind.LOST_TO_COMPETITOR
    return record_live_run(
        store,
        "shadow",
        [
            [
                opp("a", won, reverts=False, expected_pnl=HUGE, latency_ms=10.0),
                opp("b", lost, reverts=True, expected_pnl=3 * 10**17, latency_ms=20.0),
                opp(
                    "c",
                    won,
                    reverts=False,
                    action="rejected",
                    reason="capital_cap",
                    detail="2.5 ETH in flight > <cap> 2 ETH",
                    expected_pnl=5,
                    latency_ms=30.0,
                ),
            ],
            [],
            [
                opp(
                    "d",
                    lost,
                    reverts=None,
                    action="rejected",
                    reason="capital_cap",
                    latency_ms=40.0,
                ),
                opp(
                    "e", won, reverts=None, action="rejected", reason="daily_loss", latency_ms=50.0
                ),
                opp(
                    "f",
                    OutcomeKind.REVERTED,
                    reverts=None,
                    action="skipped",
                    reason="simulation_failed",
                    latency_ms=None,
                    expected_pnl=None,
                ),
            ],
        ],
    )


def test_a_shadow_run_reports_predicted_vs_actual(store: Store, tmp_path: Path) -> None:
    run = shadow_run(store)
    page = write_run_report(store, run.id, tmp_path / "shadow.html").read_text()
    assert f"<title>Shadow run {run.id}: cyclic_arb</title>" in page
    assert re.findall(r"<h2>(.*?)</h2>", page)[-1] == HEADING
    assert "<td>mode</td><td>shadow</td>" in section(page, "Run")
    assert LIVE_URL in section(page, "Run")
    body = section(page, HEADING)
    assert "Shadow run: nothing was sent" in body
    assert metric(body, "Opportunities") == "6"
    assert metric(body, "Approved (shadow: not sent)") == "2"
    assert metric(body, "Submitted to relays") == "0"
    assert metric(body, "Rejected by the risk manager") == "3"
    assert metric(body, "&nbsp;&nbsp;capital_cap") == "2"
    assert metric(body, "&nbsp;&nbsp;daily_loss") == "1"
    assert metric(body, "Skipped") == "1"
    assert metric(body, "&nbsp;&nbsp;simulation_failed") == "1"
    assert metric(body, "Still there at the next block (of those checked)") == "2 of 3 (66.67%)"
    assert metric(body, "Taken by a competitor") == "2 (2 with the competitor's tx)"
    assert metric(body, "Our bid would have won") == "3"
    assert metric(body, "Landed (live, of those settled)") == "-"
    expected = HUGE + 3 * 10**17  # approved only: the rejected c's 5 wei is not counted
    assert metric(body, "Expected net PnL (approved or submitted)") == (
        f'<span class="amount" title="{expected} wei">{eth(expected)}</span> ETH'
    )
    assert f"<code>{expected}</code>" in body
    assert metric(body, "Realised net PnL (live)") == "-"
    assert "Expected net PnL of those realised" not in body
    assert metric(body, "Latency median (ms)") == "30.0"
    assert metric(body, "Latency p99 (ms)") == "50.0"

    table = body.split("shadow-opportunities", 1)[1]
    assert re.findall(r"<tr><td>(\d+)</td><td><code>(\w)</code>", table) == [
        ("10", "a"), ("10", "b"), ("10", "c"), ("12", "d"), ("12", "e"), ("12", "f"),
    ]  # fmt: skip
    assert f'title="{HUGE} wei"' in table
    assert 'title="2.5 ETH in flight &gt; &lt;cap&gt; 2 ETH">rejected: capital_cap</span>' in table
    assert "<cap>" not in page
    assert f'title="{TX}"' in table  # the competitor's tx, shortened, full on hover
    rows = {r.key: r for r in shadow_rows(store, run.id)}
    assert (rows["a"].reverts_next_block, rows["b"].reverts_next_block) == (False, True)
    assert "<td>yes</td>" in table and "<td>no</td>" in table


def test_a_live_run_reports_what_landed_and_realised(store: Store, tmp_path: Path) -> None:
    loss = -(10**16) - 3
    sent = {"mode": "live", "action": "submitted"}
    run = record_live_run(
        store,
        "live",
        [
            [
                opp("a", OutcomeKind.WON, reverts=False, **sent, landed=True, realised_pnl=HUGE),
                opp("b", OutcomeKind.LOST_TO_COMPETITOR, reverts=True, **sent, landed=False,
                    realised_pnl=0),
                opp("c", OutcomeKind.WON, reverts=False, **sent, landed=True, realised_pnl=loss,
                    latency_ms=None, expected_pnl=7),
                opp("d", OutcomeKind.WON, reverts=None, **sent),  # not settled yet
            ]
        ],
    )  # fmt: skip
    page = write_run_report(store, run.id, tmp_path / "live.html").read_text()
    assert f"<title>Live run {run.id}: cyclic_arb</title>" in page
    body = section(page, HEADING)
    assert "Live run: bundles were sent to relays." in body
    assert metric(body, "Submitted to relays") == "4"
    assert metric(body, "Landed (live, of those settled)") == "2 of 3 (66.67%)"
    realised = HUGE + loss
    assert f"<code>{realised}</code>" in body
    assert metric(body, "Realised net PnL (live)") == (
        f'<span class="amount" title="{realised} wei">{eth(realised)}</span> ETH'
    )
    expected_of_realised = 2 * live_action().expected_pnl + 7  # type: ignore[operator]
    assert metric(body, "Expected net PnL of those realised").startswith(
        f'<span class="amount" title="{expected_of_realised} wei">'
    )
    assert f'title="{loss} wei">-0.010000</span>' in body


def test_a_backtest_report_has_no_predicted_vs_actual(store: Store, tmp_path: Path) -> None:
    run = store.start_or_resume_run(spec())
    store.record_block(run, block(1), [opportunity("plain")])
    assert [r.action for r in shadow_rows(store, run.id)] == [None]
    page = write_run_report(store, run.id, tmp_path / "backtest.html").read_text()
    assert f"<title>Backtest run {run.id}: cyclic_arb</title>" in page
    assert HEADING not in page and "<td>mode</td>" not in page


def test_p99_is_an_observed_value_and_long_tables_are_cut() -> None:
    assert p99([5.0]) == 5.0
    assert p99([float(i) for i in range(1, 101)]) == 99.0
    assert p99([float(i) for i in range(1, 201)]) == 198.0
    empty: dict[str, Any] = dict.fromkeys(ShadowRow.__dataclass_fields__)
    row = ShadowRow(**empty | {"block": 1, "key": "k"})
    html = opportunity_table([row] * 5, limit=3)
    assert html.count("<tr><td>1</td>") == 3 and "Showing the first 3 of 5." in html


def test_a_shadow_run_without_opportunities_is_still_a_shadow_run(
    store: Store, tmp_path: Path
) -> None:
    run = record_live_run(store, "shadow", [[], []])
    page = write_run_report(store, run.id, tmp_path / "quiet.html").read_text()
    assert f"<title>Shadow run {run.id}: cyclic_arb</title>" in page
    body = section(page, HEADING)
    assert metric(body, "Opportunities") == "0" and metric(body, "Latency (ms)") == "-"
