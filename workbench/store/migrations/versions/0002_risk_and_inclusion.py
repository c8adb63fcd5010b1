"""Opportunities record the parent block's fullness and their revert risk (predicted from the
following pending transactions, realised at the next block); an outcome may be
``not_included`` (the bundle pays the builder nothing).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:58:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BEFORE = ("won", "lost_to_competitor", "reverted", "unprofitable_after_gas")
_AFTER = (*_BEFORE, "not_included")


def _outcome_kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("outcomes", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_outcomes_outcome_valid"), type_="check")
        batch.alter_column(
            "outcome",
            existing_type=sa.Enum(*_BEFORE, name="outcomekind", native_enum=False, length=32),
            type_=sa.Enum(*kinds, name="outcomekind", native_enum=False, length=32),
            existing_nullable=False,
        )
        values = ", ".join(f"'{k}'" for k in kinds)
        batch.create_check_constraint(op.f("ck_outcomes_outcome_valid"), f"outcome IN ({values})")


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch:
        batch.add_column(sa.Column("parent_fullness_bps", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("predicted_revert", sa.Float(), nullable=True))
        batch.add_column(sa.Column("reverts_next_block", sa.Boolean(), nullable=True))
    _outcome_kinds(_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM outcomes WHERE outcome = 'not_included'")
    _outcome_kinds(_BEFORE)
    with op.batch_alter_table("opportunities") as batch:
        batch.drop_column("reverts_next_block")
        batch.drop_column("predicted_revert")
        batch.drop_column("parent_fullness_bps")
