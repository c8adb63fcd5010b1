"""A store made before the Alembic version table was renamed (revision 0001 kept in
``alembic_version``) is adopted and upgraded by open_store; another schema's
``alembic_version`` (optuna's) is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from workbench.store import (
    db,
    live_action_rows,
    open_store,
    opportunity_rows,
    outcome_rows,
    run_rows,
)
from workbench.store.db import VERSION_TABLE, alembic_config, make_engine, writer

LEGACY = "alembic_version"
OPTUNA_REVISION = "v3.2.0.a"  # what optuna's RDB storage keeps in alembic_version


def url_of(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


def legacy_store(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs migration 0001 the way the store did before the rename: with Alembic's default
    version table (env.py reads ``VERSION_TABLE`` from workbench.store.db when it runs), then
    records a run with one block, opportunity and outcome in the 0001 schema."""
    engine = make_engine(url)
    try:
        with monkeypatch.context() as patch, writer(engine).begin() as connection:
            patch.setattr(db, "VERSION_TABLE", LEGACY)
            command.upgrade(alembic_config(connection), "0001")
        with writer(engine).begin() as connection:
            tables = set(inspect(connection).get_table_names())
            assert LEGACY in tables and VERSION_TABLE not in tables and "runs" in tables
            insert_0001_rows(connection)
    finally:
        engine.dispose()


def insert_0001_rows(connection) -> None:  # type: ignore[no-untyped-def]
    now = "2025-01-01 00:00:00.000000"
    connection.execute(
        text(
            "INSERT INTO runs (id, created_at, status, strategy, config, engine_params, "
            "config_hash, git_sha, dataset_path, dataset_chain_id, first_block, last_block, "
            "workers, notes) VALUES (1, :now, 'finished', 'cyclic_arb', :config, '{}', "
            "'hash-1', NULL, 'datasets/devnet', 31337, 10, 12, 1, '{}')"
        ),
        {"now": now, "config": json.dumps({"bid_bps": 5000})},
    )
    connection.execute(
        text(
            "INSERT INTO blocks (run_id, block_number, processed_at, tx_count, txs_matched, "
            "txs_mismatched, mempool_txs, opportunity_count, notes) "
            "VALUES (1, 11, :now, 3, 3, 0, 0, 1, '{}')"
        ),
        {"now": now},
    )
    connection.execute(
        text(
            "INSERT INTO opportunities (id, run_id, block_number, strategy, key, route, "
            "amount_in, expected_profit, min_profit, gas_estimate, bid_bps, priority_fee, "
            "after_tx) VALUES (1, 1, 11, 'cyclic_arb', 'cycle-a', '[]', :big, '7', '1', "
            "150000, 5000, '0', NULL)"
        ),
        {"big": str(10**30)},
    )
    connection.execute(
        text(
            "INSERT INTO outcomes (id, opportunity_id, outcome, competitor_tx, competitor_paid, "
            "pnl_upper_bound, pnl_with_competition) "
            "VALUES (1, 1, 'lost_to_competitor', NULL, '5', '3', '0')"
        )
    )


def versions(url: str) -> dict[str, list[str]]:
    """Each Alembic version table in the database and the revisions it holds."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            return {
                table: [r[0] for r in connection.execute(text(f"SELECT version_num FROM {table}"))]
                for table in (VERSION_TABLE, LEGACY)
                if table in tables
            }
    finally:
        engine.dispose()


def test_a_legacy_store_is_adopted_and_upgraded_to_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = url_of(tmp_path)
    legacy_store(url, monkeypatch)
    assert versions(url) == {LEGACY: ["0001"]}

    with open_store(url) as store:
        (run,) = run_rows(store)
        assert (run["id"], run["strategy"], run["config"]) == (1, "cyclic_arb", {"bid_bps": 5000})
        assert (run["first_block"], run["last_block"]) == (10, 12)
        (opp,) = opportunity_rows(store, 1)
        assert (opp["key"], opp["amount_in"], opp["gas_estimate"]) == ("cycle-a", 10**30, 150_000)
        # 0002 and 0003 ran (not merely stamped): new columns and tables are there
        assert opp["parent_fullness_bps"] is None and opp["predicted_revert"] is None
        assert opp["reverts_next_block"] is None and live_action_rows(store, 1) == []
        (outcome,) = outcome_rows(store, 1)
        assert outcome["outcome"] == "lost_to_competitor" and outcome["competitor_paid"] == 5
    assert versions(url) == {VERSION_TABLE: ["0003"]}  # alembic_version is gone

    with open_store(url) as store:  # opening again changes nothing
        assert len(run_rows(store)) == 1
    assert versions(url) == {VERSION_TABLE: ["0003"]}


def test_the_upgraded_legacy_store_accepts_the_new_outcome_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = url_of(tmp_path)
    legacy_store(url, monkeypatch)
    open_store(url).close()
    engine = make_engine(url)
    try:
        with writer(engine).begin() as connection:
            connection.execute(text("UPDATE outcomes SET outcome = 'not_included' WHERE id = 1"))
            kinds = connection.execute(text("SELECT outcome FROM outcomes")).scalars().all()
        assert kinds == ["not_included"]
    finally:
        engine.dispose()


def test_a_legacy_table_shared_with_a_foreign_revision_keeps_only_that_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = url_of(tmp_path)
    legacy_store(url, monkeypatch)
    engine = make_engine(url)
    try:
        with writer(engine).begin() as connection:
            connection.execute(text(f"INSERT INTO {LEGACY} VALUES (:v)"), {"v": OPTUNA_REVISION})
    finally:
        engine.dispose()
    open_store(url).close()
    assert versions(url) == {VERSION_TABLE: ["0003"], LEGACY: [OPTUNA_REVISION]}


def test_a_foreign_alembic_version_is_left_alone(tmp_path: Path) -> None:
    url = url_of(tmp_path)
    engine = make_engine(url)
    try:
        with writer(engine).begin() as connection:  # another application's Alembic schema
            connection.execute(text("CREATE TABLE studies (study_id INTEGER PRIMARY KEY)"))
            connection.execute(
                text(f"CREATE TABLE {LEGACY} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            )
            connection.execute(text(f"INSERT INTO {LEGACY} VALUES (:v)"), {"v": OPTUNA_REVISION})
    finally:
        engine.dispose()

    with open_store(url) as store:
        assert run_rows(store) == []
    assert versions(url) == {VERSION_TABLE: ["0003"], LEGACY: [OPTUNA_REVISION]}
    with open_store(url) as store:
        assert run_rows(store) == []
    assert versions(url) == {VERSION_TABLE: ["0003"], LEGACY: [OPTUNA_REVISION]}


def test_a_real_optuna_storage_shares_the_database(tmp_path: Path) -> None:
    optuna = pytest.importorskip("optuna")
    url = url_of(tmp_path)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(study_name="shared", storage=storage)
    study.tell(study.ask(), 1.0)
    optuna_versions = versions(url)[LEGACY]
    storage.engine.dispose()

    with open_store(url) as store:
        assert run_rows(store) == []
    assert versions(url) == {VERSION_TABLE: ["0003"], LEGACY: optuna_versions}
    again = optuna.storages.RDBStorage(url)  # optuna still recognises its schema
    try:
        study = optuna.load_study(study_name="shared", storage=again)
        assert [t.value for t in study.trials] == [1.0]
    finally:
        again.engine.dispose()


def test_without_adoption_the_legacy_store_would_be_migrated_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layout built above really is the legacy one: skipping the adoption makes Alembic
    see an unversioned database and fail to create the existing tables again."""
    url = url_of(tmp_path)
    legacy_store(url, monkeypatch)
    monkeypatch.setattr(db, "_adopt_legacy_version_table", lambda connection: None)
    with pytest.raises(Exception, match="already exists"):
        open_store(url)
    monkeypatch.undo()
    assert versions(url) == {LEGACY: ["0001"]}  # the failed upgrade rolled back entirely
    with open_store(url) as store:
        assert len(run_rows(store)) == 1
