"""Alembic environment: runs on the connection ``workbench.store.db`` hands over, inside
its transaction (DDL too, on SQLite as well), comparing against the store's models."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator

from workbench.store.db import VERSION_TABLE
from workbench.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the store's migrations run through workbench.store.db.upgrade(engine), "
        "which provides the connection; there is no alembic.ini"
    )


def render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes our column types as their plain SQLAlchemy storage type, so a
    migration never imports the models it must outlive."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


sqlite = connection.dialect.name == "sqlite"
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=True,
    render_item=render_item,
    render_as_batch=sqlite,
    transactional_ddl=True,
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
