"""Plotly figures of a run, as HTML fragments for a page that loads plotly.js once.

Floats appear here only as plot coordinates; hover labels carry the exact wei.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

import plotly.graph_objects as go

from workbench.scoring.metrics import ETH, OpportunityRow, cumulative

OUTCOME_COLOURS = {
    "won": "#2ca02c",
    "lost_to_competitor": "#ff7f0e",
    "reverted": "#d62728",
    "unprofitable_after_gas": "#7f7f7f",
    "not_included": "#bcbd22",
}
OTHER_COLOUR = "#9467bd"
CONFIG = {"displaylogo": False, "responsive": True}
HEIGHT = 420


def fragment(fig: go.Figure, div_id: str) -> str:
    """The figure's div and the script that draws it; plotly.js must already be loaded."""
    html: str = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=CONFIG,
        default_height=f"{HEIGHT}px",
    )
    return html


def new_figure(title: str, xaxis: str, yaxis: str, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=title,
        xaxis_title=xaxis,
        yaxis_title=yaxis,
        template="plotly_white",
        height=HEIGHT,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        legend={"orientation": "h", "y": -0.2},
        **layout,
    )
    return fig


def outcomes_of(rows: Sequence[OpportunityRow]) -> list[str]:
    """Outcomes present in ``rows``: the known ones in their usual order, then any others."""
    seen = {r.outcome for r in rows}
    return [o for o in OUTCOME_COLOURS if o in seen] + sorted(seen - OUTCOME_COLOURS.keys())


def _colour(outcome: str) -> str:
    return OUTCOME_COLOURS.get(outcome, OTHER_COLOUR)


def cumulative_pnl(rows: Sequence[OpportunityRow], blocks: Sequence[int]) -> go.Figure:
    """Cumulative net PnL over every block of the run, under both bounds."""
    series = cumulative(rows, blocks)
    fig = new_figure("Cumulative net PnL", "block", "ETH", hovermode="x unified")
    for key, name, dash in (
        ("net_pnl_upper_bound", "upper bound (no competition)", "dash"),
        ("net_pnl", "with competition", "solid"),
    ):
        wei = series[key]
        fig.add_trace(
            go.Scatter(
                x=series["block"],
                y=[w / ETH for w in wei],
                customdata=[str(w) for w in wei],
                name=name,
                mode="lines",
                line={"dash": dash, "shape": "hv"},
                hovertemplate="%{y:.6f} ETH (%{customdata} wei)",
            )
        )
    return fig


def opportunities_per_block(rows: Sequence[OpportunityRow], blocks: Sequence[int]) -> go.Figure:
    """Opportunities found in each block, stacked by outcome."""
    counts = Counter((r.block, r.outcome) for r in rows)
    fig = new_figure("Opportunities per block", "block", "opportunities", barmode="stack")
    for outcome in outcomes_of(rows):
        fig.add_trace(
            go.Bar(
                x=list(blocks),
                y=[counts[(b, outcome)] for b in blocks],
                name=outcome,
                marker_color=_colour(outcome),
            )
        )
    return fig


def profit_vs_gas(rows: Sequence[OpportunityRow]) -> go.Figure:
    """Each simulated opportunity: gas cost against EVM gross profit, coloured by outcome."""
    fig = new_figure("EVM gross profit vs gas cost", "gas cost (ETH)", "EVM gross profit (ETH)")
    for outcome in outcomes_of(rows):
        these = [r for r in rows if r.outcome == outcome]
        fig.add_trace(
            go.Scatter(
                x=[r.gas_cost / ETH for r in these],
                y=[r.profit / ETH for r in these],
                customdata=[
                    (r.block, escape(r.strategy), str(r.gas_cost), str(r.profit)) for r in these
                ],
                mode="markers",
                name=outcome,
                marker={"color": _colour(outcome), "size": 8, "opacity": 0.75},
                hovertemplate=(
                    "block %{customdata[0]} · %{customdata[1]}<br>"
                    "gas %{customdata[2]} wei<br>profit %{customdata[3]} wei"
                ),
            )
        )
    most_gas = max((r.gas_cost / ETH for r in rows), default=0.0)
    fig.add_trace(
        go.Scatter(
            x=[0, most_gas],
            y=[0, most_gas],
            mode="lines",
            name="break-even before the bid",
            line={"color": "#bbbbbb", "dash": "dot"},
            hoverinfo="skip",
        )
    )
    return fig


def outcome_breakdown(rows: Sequence[OpportunityRow]) -> go.Figure:
    """How many opportunities ended in each outcome."""
    counts = Counter(r.outcome for r in rows)
    names = outcomes_of(rows)
    fig = new_figure("Outcomes", "opportunities", "", showlegend=False)
    fig.add_trace(
        go.Bar(
            x=[counts[o] for o in names],
            y=names,
            orientation="h",
            marker_color=[_colour(o) for o in names],
            text=[f"{counts[o]:,}" for o in names],
            textposition="auto",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def fidelity_per_block(
    blocks: Sequence[int], matched: Sequence[int], mismatched: Sequence[int]
) -> go.Figure:
    """Share of each block's replayed transactions identical to the recording (no bar for a
    block without transactions)."""
    shares = [m / (m + x) if m + x else None for m, x in zip(matched, mismatched, strict=True)]
    fig = new_figure("Replay fidelity per block", "block", "transactions matched", showlegend=False)
    fig.add_trace(
        go.Bar(
            x=list(blocks),
            y=shares,
            customdata=list(zip(matched, mismatched, strict=True)),
            marker_color=["#2ca02c" if not x else "#d62728" for x in mismatched],
            hovertemplate="block %{x}: %{customdata[0]} matched, %{customdata[1]} differ",
        )
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig
