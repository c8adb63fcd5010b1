"""Initial schema: runs, blocks, opportunities, simulations, outcomes.

Amounts are decimal text (String(78), exact for any uint256/int256); times are UTC.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 22:27:08.261746
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running", "finished", "failed", name="runstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("engine_params", sa.JSON(), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("git_sha", sa.String(length=64), nullable=True),
        sa.Column("dataset_path", sa.Text(), nullable=False),
        sa.Column("dataset_chain_id", sa.BigInteger(), nullable=False),
        sa.Column("first_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed')", name=op.f("ck_runs_status_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("config_hash", name=op.f("uq_runs_config_hash")),
    )
    op.create_table(
        "blocks",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tx_count", sa.Integer(), nullable=False),
        sa.Column("txs_matched", sa.Integer(), nullable=False),
        sa.Column("txs_mismatched", sa.Integer(), nullable=False),
        sa.Column("mempool_txs", sa.Integer(), nullable=False),
        sa.Column("opportunity_count", sa.Integer(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_blocks_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "block_number", name=op.f("pk_blocks")),
    )
    op.create_table(
        "opportunities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.Column("amount_in", sa.String(length=78), nullable=False),
        sa.Column("expected_profit", sa.String(length=78), nullable=False),
        sa.Column("min_profit", sa.String(length=78), nullable=False),
        sa.Column("gas_estimate", sa.BigInteger(), nullable=False),
        sa.Column("bid_bps", sa.Integer(), nullable=False),
        sa.Column("priority_fee", sa.String(length=78), nullable=False),
        sa.Column("after_tx", sa.String(length=66), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id", "block_number"],
            ["blocks.run_id", "blocks.block_number"],
            name=op.f("fk_opportunities_run_id_block_number_blocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint(
            "run_id", "block_number", "key", name=op.f("uq_opportunities_run_id_block_number_key")
        ),
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "opportunity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "won",
                "lost_to_competitor",
                "reverted",
                "unprofitable_after_gas",
                name="outcomekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("competitor_tx", sa.String(length=66), nullable=True),
        sa.Column("competitor_paid", sa.String(length=78), nullable=True),
        sa.Column("pnl_upper_bound", sa.String(length=78), nullable=False),
        sa.Column("pnl_with_competition", sa.String(length=78), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('won', 'lost_to_competitor', 'reverted', 'unprofitable_after_gas')",
            name=op.f("ck_outcomes_outcome_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_outcomes_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("opportunity_id", name=op.f("uq_outcomes_opportunity_id")),
    )
    op.create_table(
        "simulations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "opportunity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "success",
                "reverted",
                "error",
                name="simulationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("gas_used", sa.BigInteger(), nullable=False),
        sa.Column("profit", sa.String(length=78), nullable=False),
        sa.Column("bid_paid", sa.String(length=78), nullable=False),
        sa.Column("gas_cost", sa.String(length=78), nullable=False),
        sa.Column("revert_reason", sa.Text(), nullable=True),
        sa.Column("screening_profit_matches", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "status IN ('success', 'reverted', 'error')", name=op.f("ck_simulations_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_simulations_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulations")),
        sa.UniqueConstraint("opportunity_id", name=op.f("uq_simulations_opportunity_id")),
    )


def downgrade() -> None:
    op.drop_table("simulations")
    op.drop_table("outcomes")
    op.drop_table("opportunities")
    op.drop_table("blocks")
    op.drop_table("runs")
