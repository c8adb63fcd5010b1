"""A stored run as a report: rows and block statistics read from the store, then the page.
A shadow or live run (one with recorded actions) gets the "Predicted vs actual" section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.report import shadow
from workbench.report.html import BlockStats, write_report
from workbench.scoring.metrics import OpportunityRow
from workbench.store import (
    Store,
    block_rows,
    opportunity_rows,
    outcome_rows,
    run_rows,
    simulation_rows,
)


def report_inputs(
    store: Store, run_id: int
) -> tuple[dict[str, Any], list[OpportunityRow], list[BlockStats]]:
    """The run's metadata, its opportunities joined with their simulation and outcome, and
    per-block statistics."""
    run = next((r for r in run_rows(store) if r["id"] == run_id), None)
    if run is None:
        store.get_run(run_id)  # raises RunNotFoundError, saying which runs exist
        raise AssertionError("unreachable")
    sims = {s["opportunity_id"]: s for s in simulation_rows(store, run_id)}
    outs = {o["opportunity_id"]: o for o in outcome_rows(store, run_id)}
    rows = []
    for o in opportunity_rows(store, run_id):
        sim, out = sims.get(o["id"], {}), outs.get(o["id"], {})
        rows.append(
            OpportunityRow(
                block=o["block_number"],
                strategy=o["strategy"],
                key=o["key"],
                pools=tuple(h["pool"] for h in o["route"]),
                expected_profit=o["expected_profit"],
                sim_status=str(sim.get("status", "error")),
                profit=sim.get("profit", 0),
                bid_paid=sim.get("bid_paid", 0),
                gas_cost=sim.get("gas_cost", 0),
                outcome=str(out.get("outcome", "reverted")),
                pnl_upper_bound=out.get("pnl_upper_bound", 0),
                pnl_with_competition=out.get("pnl_with_competition", 0),
                predicted_revert=o["predicted_revert"],
                reverts_next_block=o["reverts_next_block"],
                competitor_paid=out.get("competitor_paid"),
                parent_fullness_bps=o["parent_fullness_bps"],
            )
        )
    blocks = [
        BlockStats(
            number=b["block_number"],
            tx_count=b["tx_count"],
            txs_matched=b["txs_matched"],
            txs_mismatched=b["txs_mismatched"],
            opportunities=b["opportunity_count"],
            mismatches=tuple((b["notes"] or {}).get("mismatches", ())),
            causes=tuple(sorted((b["notes"] or {}).get("causes", {}).items())),
            reforked=bool((b["notes"] or {}).get("reforked")),
            mempool_txs=b["mempool_txs"],
        )
        for b in block_rows(store, run_id)
    ]
    meta = {
        "run": run["id"],
        "strategy": run["strategy"],
        "config": run["config"],
        "dataset": run["dataset_path"],
        "blocks": f"{run['first_block']}-{run['last_block']}",
        "status": str(run["status"]),
        "git sha": run["git_sha"] or "-",
        "created": str(run["created_at"]),
    }
    return meta, rows, blocks


def write_run_report(store: Store, run_id: int, path: Path) -> Path:
    """The run's report at ``path``: a backtest's, or with "Predicted vs actual" (and the
    mode in the title) for a shadow or live run (one with actions, or ``engine["mode"]``)."""
    meta, rows, blocks = report_inputs(store, run_id)
    actions = shadow.shadow_rows(store, run_id)
    engine = next(r["engine_params"] for r in run_rows(store) if r["id"] == run_id)
    mode = shadow.run_mode(actions, engine)
    if mode is None:
        title = f"Backtest run {run_id}: {meta['strategy']}"
        return write_report(path, title=title, run=meta, rows=rows, blocks=blocks)
    return write_report(
        path,
        title=f"{mode.capitalize()} run {run_id}: {meta['strategy']}",
        run={**meta, "mode": mode},
        rows=rows,
        blocks=blocks,
        extra_sections=[(shadow.HEADING, shadow.section(actions, mode))],
    )
