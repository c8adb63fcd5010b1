"""Live actions: what a shadow or live run did with each opportunity (submitted, approved,
rejected with a reason, skipped), where the bundle went and what it realised.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_MODES = ("shadow", "live")
_ACTIONS = ("submitted", "approved", "rejected", "skipped")


def _one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(
        f"{column} IN ({listed})", name=op.f(f"ck_live_actions_{column}_valid")
    )


def upgrade() -> None:
    op.create_table(
        "live_actions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("opportunity_id", _ID, nullable=False),
        sa.Column(
            "mode", sa.Enum(*_MODES, name="livemode", native_enum=False, length=32), nullable=False
        ),
        sa.Column(
            "action",
            sa.Enum(*_ACTIONS, name="actionkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("target_block", sa.BigInteger(), nullable=False),
        sa.Column("decided_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("bundle_hash", sa.String(length=66), nullable=True),
        sa.Column("relays", sa.JSON(), nullable=False),
        sa.Column("landed", sa.Boolean(), nullable=True),
        sa.Column("realised_pnl", sa.String(length=78), nullable=True),
        sa.Column("gas_cost", sa.String(length=78), nullable=True),
        sa.Column("bid_paid", sa.String(length=78), nullable=True),
        sa.Column("expected_pnl", sa.String(length=78), nullable=True),
        _one_of("mode", _MODES),
        _one_of("action", _ACTIONS),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_live_actions_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_actions")),
        sa.UniqueConstraint("opportunity_id", name=op.f("uq_live_actions_opportunity_id")),
    )


def downgrade() -> None:
    op.drop_table("live_actions")
