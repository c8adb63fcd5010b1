"""Engines and schema upgrades: SQLite file by default, PostgreSQL by ``WORKBENCH_DB_URL``.

The schema is upgraded to the newest Alembic revision on first use, inside one
transaction (PostgreSQL: under an advisory lock), so concurrent openers of a fresh database
do not race and a killed upgrade leaves nothing half-made.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

URL_ENV = "WORKBENCH_DB_URL"
DEFAULT_FILE = "workbench.db"
BEGIN_OPTION = "workbench_sqlite_begin"
"""Execution option naming the SQLite BEGIN flavour: writers take the lock up front."""
_MIGRATION_LOCK = 0x5742_5354_4F52_45  # "WBSTORE": the pg_advisory_xact_lock key
VERSION_TABLE = "workbench_alembic_version"
"""Our own Alembic version table, so the store can share a database with other Alembic-managed
schemas (an optuna study storage uses ``alembic_version``)."""
_LEGACY_VERSION_TABLE = "alembic_version"
_OUR_REVISIONS = ("0001", "0002")


def database_url(url: str | None = None) -> str:
    """``url``, else ``$WORKBENCH_DB_URL``, else the SQLite file ``workbench.db`` in the cwd.
    ``postgresql://`` and ``postgres://`` URLs get the psycopg (v3) driver."""
    chosen = url or os.environ.get(URL_ENV) or f"sqlite:///{Path.cwd() / DEFAULT_FILE}"
    for prefix in ("postgresql://", "postgres://"):
        if chosen.startswith(prefix):
            return "postgresql+psycopg://" + chosen.removeprefix(prefix)
    return chosen


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``database_url(url)``; SQLite gets real transactions (DDL included),
    enforced foreign keys, WAL and a busy timeout so parallel workers can share a file."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() != "sqlite":
        return create_engine(resolved, pool_pre_ping=True)
    engine = create_engine(resolved, connect_args={"timeout": 60})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but a SQLite transaction takes the write lock when it begins, so two
    writers queue instead of failing to upgrade a read lock."""
    return engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})


def upgrade(engine: Engine) -> None:
    """Brings the schema to the newest migration (creates it on an empty database)."""
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        _adopt_legacy_version_table(connection)
        command.upgrade(alembic_config(connection), "head")


def _adopt_legacy_version_table(connection: Connection) -> None:
    """A store made before the version table was renamed kept its revision in
    ``alembic_version``: move it to ours (leaving another schema's revision alone)."""
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE in tables or _LEGACY_VERSION_TABLE not in tables or "runs" not in tables:
        return
    legacy = connection.execute(text(f"SELECT version_num FROM {_LEGACY_VERSION_TABLE}")).all()
    revisions = [r[0] for r in legacy]
    ours = [r for r in revisions if r in _OUR_REVISIONS]
    if not ours:
        return
    connection.execute(
        text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    )
    connection.execute(
        text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:v)"), {"v": ours[0]}
    )
    if len(ours) == len(revisions):
        connection.execute(text(f"DROP TABLE {_LEGACY_VERSION_TABLE}"))
    else:
        connection.execute(
            text(f"DELETE FROM {_LEGACY_VERSION_TABLE} WHERE version_num = :v"), {"v": ours[0]}
        )


def alembic_config(connection: Connection) -> Config:
    """An Alembic config for the migrations shipped in this package, running on
    ``connection`` (no alembic.ini needed). Authoring a revision:
    ``command.revision(alembic_config(conn), "message", autogenerate=True)``."""
    config = Config()
    config.set_main_option("script_location", str(files("workbench.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    flavour = connection.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {flavour}")
