"""Migration 0003 (live actions) up and down on a SQLite file holding data: the upgrade keeps
every earlier row, the downgrade drops only the actions, and upgrading again works."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from tests.unit.store.store_contract import block, live_action, opportunity, spec
from workbench.store import Store, live_action_rows, opportunity_rows, outcome_rows
from workbench.store.db import alembic_config, make_engine, writer


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with writer(engine).begin() as connection:
        config = alembic_config(connection)
        (command.downgrade if down else command.upgrade)(config, revision)


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_0002_to_0003_and_back(engine: Engine) -> None:
    migrate(engine, "0002")
    assert "live_actions" not in tables(engine)
    store = Store(engine)
    run = store.start_or_resume_run(spec())
    store.record_block(run, block(1), [opportunity("old")])

    migrate(engine, "0003")
    assert "live_actions" in tables(engine)
    assert [o["key"] for o in opportunity_rows(store, run.id)] == ["old"]
    store.record_block(run, block(2), [replace(opportunity("new"), action=live_action())])
    assert [a["key"] for a in live_action_rows(store, run.id)] == ["new"]

    migrate(engine, "0002", down=True)
    assert "live_actions" not in tables(engine)
    assert [o["key"] for o in opportunity_rows(store, run.id)] == ["old", "new"]
    assert len(outcome_rows(store, run.id)) == 2

    migrate(engine, "0003")
    assert live_action_rows(store, run.id) == []
    store.record_block(run, block(3), [replace(opportunity("again"), action=live_action())])
    assert [a["key"] for a in live_action_rows(store, run.id)] == ["again"]
