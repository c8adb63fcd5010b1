"""The store's public names: what the engine and reports import from ``workbench.store``."""

from __future__ import annotations

import workbench.store

EXPORTED = {
    "URL_ENV",
    "ActionKind",
    "BlockAlreadyRecordedError",
    "RunChangedError",
    "BlockRecord",
    "InvalidRecordError",
    "LiveActionRecord",
    "LiveMode",
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
    "live_action_rows",
    "open_store",
    "opportunity_rows",
    "outcome_rows",
    "run_rows",
    "simulation_rows",
    "to_frame",
}


def test_the_export_list_is_deliberate() -> None:
    assert set(workbench.store.__all__) == EXPORTED
    assert all(hasattr(workbench.store, name) for name in EXPORTED)


def test_store_errors_share_the_workbench_root() -> None:
    from workbench.errors import WorkbenchError

    for name in ("StoreError", "InvalidRecordError", "RunNotFoundError"):
        assert issubclass(getattr(workbench.store, name), WorkbenchError)
    assert issubclass(workbench.store.BlockAlreadyRecordedError, ValueError)
