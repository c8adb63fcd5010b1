"""The run store: SQLAlchemy models and Alembic migrations, SQLite file by default and
PostgreSQL by ``WORKBENCH_DB_URL``; one transaction per block, so runs resume after a kill.

    store = open_store()
    run = store.start_or_resume_run(spec)
    while (number := store.next_block(run)) is not None:
        store.record_block(run, BlockRecord(number=number, ...), opportunities)
    store.finish_run(run)

A live (or shadow) run records the same blocks, each opportunity with the action taken
(``OpportunityRecord.action``), calling ``store.extend_run(run, number)`` before a block
beyond ``run.last_block``; reports read the actions back with ``live_action_rows``.
"""

from __future__ import annotations

from workbench.store.db import URL_ENV, database_url
from workbench.store.errors import (
    BlockAlreadyRecordedError,
    InvalidRecordError,
    RunChangedError,
    RunNotFoundError,
    StoreError,
)
from workbench.store.records import (
    ActionKind,
    BlockRecord,
    LiveActionRecord,
    LiveMode,
    OpportunityRecord,
    OutcomeKind,
    OutcomeRecord,
    RouteHop,
    RunInfo,
    RunSpec,
    RunStatus,
    SimulationRecord,
    SimulationStatus,
)
from workbench.store.repository import Store, open_store
from workbench.store.rows import (
    block_rows,
    live_action_rows,
    opportunity_rows,
    outcome_rows,
    run_rows,
    simulation_rows,
    to_frame,
)

__all__ = [
    "URL_ENV",
    "ActionKind",
    "BlockAlreadyRecordedError",
    "BlockRecord",
    "InvalidRecordError",
    "LiveActionRecord",
    "LiveMode",
    "OpportunityRecord",
    "OutcomeKind",
    "OutcomeRecord",
    "RouteHop",
    "RunChangedError",
    "RunInfo",
    "RunNotFoundError",
    "RunSpec",
    "RunStatus",
    "SimulationRecord",
    "SimulationStatus",
    "Store",
    "StoreError",
    "block_rows",
    "database_url",
    "live_action_rows",
    "open_store",
    "opportunity_rows",
    "outcome_rows",
    "run_rows",
    "simulation_rows",
    "to_frame",
]
