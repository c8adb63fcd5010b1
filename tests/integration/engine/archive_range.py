"""The blocks the tests of a real chain's data path replay, from the devnet served as an
archive node (``conftest.archive``); their ingest starts a block earlier (the parent's state)."""

from __future__ import annotations

from typing import Any

from workbench.engine.loop import BlockResult

FIRST, LAST = 600, 630
ARCHIVE_LAST = LAST + 2  # what the archive node holds


def shown(results: list[BlockResult]) -> list[tuple[Any, ...]]:
    """What a backtest decided, block by block, to the wei."""
    return [
        (
            r.number,
            o.intent.key,
            o.intent.amount_in,
            o.intent.expected_profit,
            o.sim.status,
            o.sim.profit,
            o.sim.gas_used,
            o.outcome.outcome,
            o.outcome.pnl_with_competition,
        )
        for r in results
        for o in r.opportunities
    ]
