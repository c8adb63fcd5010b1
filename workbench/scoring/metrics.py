"""Scores of a run: gross profit, gas, bids, net PnL under both bounds, hit, revert and
capture rates; per strategy, per pool and per block, and cumulative series.

Amounts stay integers (wei of the base token); ETH values and rates are floats for display
and statistics only. Definitions:
- hit rate = won / opportunities; revert rate = reverted / opportunities;
- observed MEV of a block = the EVM-simulated gross profit of every opportunity found in it,
  won or lost; capture rate = gross profit won / observed MEV;
- predicted revert rate = the mean predicted revert probability (from the following pending
  transactions); realised next-block revert rate = the share of opportunities whose
  transaction reverts on the state after the block (of those checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ETH = 10**18


@dataclass(frozen=True, slots=True)
class OpportunityRow:
    """One opportunity and what became of it: the unit every score is summed from."""

    block: int
    strategy: str
    key: str
    pools: tuple[str, ...]
    expected_profit: int
    sim_status: str
    profit: int  # EVM gross
    bid_paid: int
    gas_cost: int
    outcome: str
    pnl_upper_bound: int
    pnl_with_competition: int
    predicted_revert: float | None = None
    reverts_next_block: bool | None = None
    competitor_paid: int | None = None  # a competitor took the opportunity, paying this
    parent_fullness_bps: int | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    opportunities: int
    won: int
    lost: int
    reverted: int
    unprofitable: int
    not_included: int
    gross_profit: int  # won
    gas: int  # won
    bids: int  # won
    net_pnl: int  # with competition
    net_pnl_upper_bound: int
    observed_mev: int
    predicted_revert_rate: float
    next_block_revert_rate: float

    @property
    def hit_rate(self) -> float:
        return self.won / self.opportunities if self.opportunities else 0.0

    @property
    def revert_rate(self) -> float:
        return self.reverted / self.opportunities if self.opportunities else 0.0

    @property
    def capture_rate(self) -> float:
        return self.gross_profit / self.observed_mev if self.observed_mev else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain values for tables and JSON: integers exact, ETH and rates as floats."""
        return {
            "opportunities": self.opportunities,
            "won": self.won,
            "lost_to_competitor": self.lost,
            "reverted": self.reverted,
            "unprofitable_after_gas": self.unprofitable,
            "not_included": self.not_included,
            "gross_profit_wei": self.gross_profit,
            "gas_wei": self.gas,
            "bids_wei": self.bids,
            "net_pnl_wei": self.net_pnl,
            "net_pnl_upper_bound_wei": self.net_pnl_upper_bound,
            "net_pnl_eth": self.net_pnl / ETH,
            "net_pnl_upper_bound_eth": self.net_pnl_upper_bound / ETH,
            "hit_rate": self.hit_rate,
            "revert_rate": self.revert_rate,
            "capture_rate": self.capture_rate,
            "predicted_revert_rate": self.predicted_revert_rate,
            "next_block_revert_rate": self.next_block_revert_rate,
        }


def summarize(rows: Iterable[OpportunityRow]) -> Summary:
    rows = list(rows)
    won = [r for r in rows if r.outcome == "won"]
    predicted = [r.predicted_revert for r in rows if r.predicted_revert is not None]
    realised = [r.reverts_next_block for r in rows if r.reverts_next_block is not None]
    return Summary(
        opportunities=len(rows),
        won=len(won),
        lost=sum(r.outcome == "lost_to_competitor" for r in rows),
        reverted=sum(r.outcome == "reverted" for r in rows),
        unprofitable=sum(r.outcome == "unprofitable_after_gas" for r in rows),
        not_included=sum(r.outcome == "not_included" for r in rows),
        gross_profit=sum(r.profit for r in won),
        gas=sum(r.gas_cost for r in won),
        bids=sum(r.bid_paid for r in won),
        net_pnl=sum(r.pnl_with_competition for r in rows),
        net_pnl_upper_bound=sum(r.pnl_upper_bound for r in rows),
        observed_mev=sum(r.profit for r in rows if r.sim_status == "success"),
        predicted_revert_rate=sum(predicted) / len(predicted) if predicted else 0.0,
        next_block_revert_rate=sum(realised) / len(realised) if realised else 0.0,
    )


def by(rows: Iterable[OpportunityRow], key: str) -> dict[Any, Summary]:
    """Summaries per ``strategy``, ``block`` or ``pool`` (a row counts for each of its pools)."""
    groups: dict[Any, list[OpportunityRow]] = {}
    for r in rows:
        keys = r.pools if key == "pool" else (getattr(r, key),)
        for k in keys:
            groups.setdefault(k, []).append(r)
    return {k: summarize(v) for k, v in sorted(groups.items())}


def cumulative(rows: Iterable[OpportunityRow], blocks: Iterable[int]) -> dict[str, list[int]]:
    """Per block (in order, every block of the run, also empty ones): cumulative net PnL under
    both bounds, in wei."""
    per_block: Mapping[int, Summary] = by(rows, "block")
    upper, competed = 0, 0
    series: dict[str, list[int]] = {"block": [], "net_pnl_upper_bound": [], "net_pnl": []}
    for b in sorted(set(blocks)):
        s = per_block.get(b)
        if s is not None:
            upper += s.net_pnl_upper_bound
            competed += s.net_pnl
        series["block"].append(b)
        series["net_pnl_upper_bound"].append(upper)
        series["net_pnl"].append(competed)
    return series
