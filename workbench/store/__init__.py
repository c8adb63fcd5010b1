"""The run store: SQLAlchemy models and Alembic migrations, SQLite file by default and
PostgreSQL by ``WORKBENCH_DB_URL``; one transaction per block, so runs resume after a kill.

    store = open_store()
    run = store.start_or_resume_run(spec)
    while (number := store.next_block(run)) is not None:
        store.record_block(run, BlockRecord(number=number, ...), opportunities)
    store.finish_run(run)
"""

from __future__ import annotations

from workbench.store.db import URL_ENV, database_url
from workbench.store.errors import (
    BlockAlreadyRecordedError,
    InvalidRecordError,
    RunNotFoundError,
    StoreError,
)
from workbench.store.records import (
    BlockRecord,
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
    opportunity_rows,
    outcome_rows,
    run_rows,
    simulation_rows,
    to_frame,
)

__all__ = [
    "URL_ENV",
    "BlockAlreadyRecordedError",
    "BlockRecord",
    "InvalidRecordError",
    "OpportunityRecord",
    "OutcomeKind",
    "OutcomeRecord",
    "RouteHop",
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
    "open_store",
    "opportunity_rows",
    "outcome_rows",
    "run_rows",
    "simulation_rows",
    "to_frame",
]
