"""Scores from hand-made rows: exact integer sums, rates, groupings and cumulative series."""

from __future__ import annotations

from workbench.scoring.metrics import OpportunityRow, by, cumulative, summarize

E18 = 10**18


def row(
    block: int,
    outcome: str,
    profit: int,
    *,
    pools: tuple[str, ...] = ("0xp1", "0xp2"),
    strategy: str = "cyclic_arb",
) -> OpportunityRow:
    status = "reverted" if outcome == "reverted" else "success"
    bid, gas = profit // 2, 10**15
    net = profit - bid - gas if status == "success" else 0
    return OpportunityRow(
        block=block,
        strategy=strategy,
        key=f"k{block}{outcome}",
        pools=pools,
        expected_profit=profit,
        sim_status=status,
        profit=profit if status == "success" else 0,
        bid_paid=bid if status == "success" else 0,
        gas_cost=gas,
        outcome=outcome,
        pnl_upper_bound=net if outcome in ("won", "lost_to_competitor") else 0,
        pnl_with_competition=net if outcome == "won" else 0,
    )


def test_summary_is_exact_and_rates_follow_their_definitions() -> None:
    rows = [
        row(1, "won", 2**70),
        row(1, "lost_to_competitor", E18),
        row(2, "reverted", E18),
        row(3, "won", 4 * E18),
    ]
    s = summarize(rows)
    assert (s.opportunities, s.won, s.lost, s.reverted) == (4, 2, 1, 1)
    assert s.gross_profit == 2**70 + 4 * E18  # integers, exact beyond 2**64
    assert s.net_pnl == (2**70 - 2**69 - 10**15) + (4 * E18 - 2 * E18 - 10**15)
    assert s.net_pnl_upper_bound == s.net_pnl + (E18 - E18 // 2 - 10**15)
    assert s.hit_rate == 0.5 and s.revert_rate == 0.25
    assert s.capture_rate == (2**70 + 4 * E18) / (2**70 + 5 * E18)
    assert summarize([]).hit_rate == 0.0


def test_groupings_and_cumulative_series() -> None:
    rows = [row(1, "won", E18, strategy="a"), row(3, "won", 2 * E18, pools=("0xp3",), strategy="b")]
    assert set(by(rows, "strategy")) == {"a", "b"}
    assert by(rows, "pool")["0xp1"].won == 1 and by(rows, "pool")["0xp3"].won == 1
    series = cumulative(rows, range(1, 5))
    assert series["block"] == [1, 2, 3, 4]
    first = E18 - E18 // 2 - 10**15
    assert series["net_pnl"] == [first, first, first + 2 * E18 - E18 - 10**15, first + E18 - 10**15]
