"""Reading a store back for reports: each table of a run as a list of dicts, exact.

Amounts come back as Python ints of any size. ``to_frame`` makes a polars DataFrame in
which amount and JSON columns are ``pl.Object`` (Python ints, dicts): polars has no integer
type wide enough for wei, and a decimal string would hide that the column is a number.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Select, select

from workbench.store.columns import Wei
from workbench.store.models import (
    Base,
    BlockTable,
    LiveActionTable,
    OpportunityTable,
    OutcomeTable,
    RunTable,
    SimulationTable,
)

if TYPE_CHECKING:
    import polars as pl

    from workbench.store.repository import Store

Row = dict[str, Any]

OBJECT_COLUMNS = frozenset(
    column.name
    for table in Base.metadata.tables.values()
    for column in table.columns
    if isinstance(column.type, Wei | JSON)
)
"""Columns that ``to_frame`` keeps as Python objects (exact ints, JSON values)."""


def run_rows(store: Store) -> list[Row]:
    """Every run, oldest first."""
    return _rows(store, select(RunTable.__table__).order_by(RunTable.id))


def block_rows(store: Store, run_id: int) -> list[Row]:
    """The run's processed blocks, by number."""
    query = select(BlockTable.__table__).where(BlockTable.run_id == run_id)
    return _rows(store, query.order_by(BlockTable.block_number))


def opportunity_rows(store: Store, run_id: int) -> list[Row]:
    """The run's opportunities, by block and then in the order they were recorded."""
    query = select(OpportunityTable.__table__).where(OpportunityTable.run_id == run_id)
    return _rows(store, query.order_by(OpportunityTable.block_number, OpportunityTable.id))


def simulation_rows(store: Store, run_id: int) -> list[Row]:
    """The run's simulations, each with its opportunity's block number and key."""
    query = (
        select(SimulationTable.__table__, OpportunityTable.block_number, OpportunityTable.key)
        .join(OpportunityTable, SimulationTable.opportunity_id == OpportunityTable.id)
        .where(OpportunityTable.run_id == run_id)
    )
    return _rows(store, query.order_by(OpportunityTable.block_number, OpportunityTable.id))


def outcome_rows(store: Store, run_id: int) -> list[Row]:
    """The run's outcomes, each with its opportunity's block number and key."""
    query = (
        select(OutcomeTable.__table__, OpportunityTable.block_number, OpportunityTable.key)
        .join(OpportunityTable, OutcomeTable.opportunity_id == OpportunityTable.id)
        .where(OpportunityTable.run_id == run_id)
    )
    return _rows(store, query.order_by(OpportunityTable.block_number, OpportunityTable.id))


def live_action_rows(store: Store, run_id: int) -> list[Row]:
    """The run's live actions (shadow or live runs), each with its opportunity's block
    number and key; empty for a backtest."""
    query = (
        select(LiveActionTable.__table__, OpportunityTable.block_number, OpportunityTable.key)
        .join(OpportunityTable, LiveActionTable.opportunity_id == OpportunityTable.id)
        .where(OpportunityTable.run_id == run_id)
    )
    return _rows(store, query.order_by(OpportunityTable.block_number, OpportunityTable.id))


def to_frame(rows: list[Row]) -> pl.DataFrame:
    """The rows as a DataFrame; amounts and JSON stay exact Python objects."""
    import polars as pl  # only reports need it; workers that only write start faster

    if not rows:
        return pl.DataFrame()
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    return pl.DataFrame(
        [
            pl.Series(name, values, dtype=pl.Object if name in OBJECT_COLUMNS else None)
            for name, values in columns.items()
        ]
    )


def _rows(store: Store, query: Select[Any]) -> list[Row]:
    with store.engine.connect() as connection:
        return [
            {key: _plain(value) for key, value in row._mapping.items()}
            for row in connection.execute(query)
        ]


def _plain(value: Any) -> Any:
    """Enum members as their string value, so rows hold only plain data."""
    return value.value if isinstance(value, StrEnum) else value
