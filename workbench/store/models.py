"""The run database: runs, the blocks each processed, the opportunities found in a block,
and each opportunity's EVM simulation, scored outcome and (shadow or live runs) the action
taken.

Amounts are ``Wei`` columns (exact decimal text); times are UTC. Deleting a run deletes
everything under it. Migrations 0001 to 0003 create exactly this schema (a test compares
them).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workbench.store.columns import UtcDateTime, Wei
from workbench.store.records import (
    ActionKind,
    LiveMode,
    OutcomeKind,
    RunStatus,
    SimulationStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names, the same on every backend, so later migrations can refer to them."""

ID = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit surrogate keys; SQLite auto-increments only a column declared INTEGER."""


def _enum(kind: type[StrEnum]) -> Enum:
    """A VARCHAR holding the enum's values; a CHECK constraint (``_one_of``) guards it."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda k: [m.value for m in k],
        validate_strings=True,
    )


def _one_of(column: str, kind: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{m.value}'" for m in kind)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_valid")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RunTable(Base):
    """One backtest (or shadow) run; ``config_hash`` is its resume key."""

    __tablename__ = "runs"
    __table_args__ = (_one_of("status", RunStatus),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus))
    strategy: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    engine_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_hash: Mapped[str] = mapped_column(String(64), unique=True)
    git_sha: Mapped[str | None] = mapped_column(String(64))
    dataset_path: Mapped[str] = mapped_column(Text)
    dataset_chain_id: Mapped[int] = mapped_column(BigInteger)
    first_block: Mapped[int] = mapped_column(BigInteger)
    last_block: Mapped[int] = mapped_column(BigInteger)
    workers: Mapped[int] = mapped_column(Integer)
    notes: Mapped[dict[str, Any]] = mapped_column(JSON)


class BlockTable(Base):
    """A block a run has processed: committed together with all its opportunities."""

    __tablename__ = "blocks"

    run_id: Mapped[int] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    tx_count: Mapped[int] = mapped_column(Integer)
    txs_matched: Mapped[int] = mapped_column(Integer)
    txs_mismatched: Mapped[int] = mapped_column(Integer)
    mempool_txs: Mapped[int] = mapped_column(Integer)
    opportunity_count: Mapped[int] = mapped_column(Integer)
    notes: Mapped[dict[str, Any]] = mapped_column(JSON)

    opportunities: Mapped[list[OpportunityTable]] = relationship(cascade="all, delete-orphan")


class OpportunityTable(Base):
    """An intent proposed in a block; ``key`` is the route id (``@`` target tx if a backrun)."""

    __tablename__ = "opportunities"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "block_number"],
            ["blocks.run_id", "blocks.block_number"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("run_id", "block_number", "key"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    run_id: Mapped[int] = mapped_column(ID)
    block_number: Mapped[int] = mapped_column(BigInteger)
    strategy: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(Text)
    route: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    amount_in: Mapped[int] = mapped_column(Wei)
    expected_profit: Mapped[int] = mapped_column(Wei)
    min_profit: Mapped[int] = mapped_column(Wei)
    gas_estimate: Mapped[int] = mapped_column(BigInteger)
    bid_bps: Mapped[int] = mapped_column(Integer)
    priority_fee: Mapped[int] = mapped_column(Wei)
    after_tx: Mapped[str | None] = mapped_column(String(66))
    parent_fullness_bps: Mapped[int | None] = mapped_column(Integer)
    predicted_revert: Mapped[float | None] = mapped_column(Float)  # a probability
    reverts_next_block: Mapped[bool | None] = mapped_column(Boolean)

    simulation: Mapped[SimulationTable | None] = relationship(cascade="all, delete-orphan")
    outcome: Mapped[OutcomeTable | None] = relationship(cascade="all, delete-orphan")
    action: Mapped[LiveActionTable | None] = relationship(cascade="all, delete-orphan")


class SimulationTable(Base):
    """The EVM-exact simulation of an opportunity: gross ``profit`` and what it cost."""

    __tablename__ = "simulations"
    __table_args__ = (_one_of("status", SimulationStatus),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ID, ForeignKey("opportunities.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[SimulationStatus] = mapped_column(_enum(SimulationStatus))
    gas_used: Mapped[int] = mapped_column(BigInteger)
    profit: Mapped[int] = mapped_column(Wei)
    bid_paid: Mapped[int] = mapped_column(Wei)
    gas_cost: Mapped[int] = mapped_column(Wei)
    revert_reason: Mapped[str | None] = mapped_column(Text)
    screening_profit_matches: Mapped[bool] = mapped_column(Boolean)


class OutcomeTable(Base):
    """How an opportunity scored; the PnLs are net of gas and bid and may be negative."""

    __tablename__ = "outcomes"
    __table_args__ = (_one_of("outcome", OutcomeKind),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ID, ForeignKey("opportunities.id", ondelete="CASCADE"), unique=True
    )
    outcome: Mapped[OutcomeKind] = mapped_column(_enum(OutcomeKind))
    competitor_tx: Mapped[str | None] = mapped_column(String(66))
    competitor_paid: Mapped[int | None] = mapped_column(Wei)
    pnl_upper_bound: Mapped[int] = mapped_column(Wei)
    pnl_with_competition: Mapped[int] = mapped_column(Wei)


class LiveActionTable(Base):
    """What a shadow or live run did with an opportunity; for a bundle sent, where it went
    (``relays``: one JSON object per relay answer) and what it realised."""

    __tablename__ = "live_actions"
    __table_args__ = (_one_of("mode", LiveMode), _one_of("action", ActionKind))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ID, ForeignKey("opportunities.id", ondelete="CASCADE"), unique=True
    )
    mode: Mapped[LiveMode] = mapped_column(_enum(LiveMode))
    action: Mapped[ActionKind] = mapped_column(_enum(ActionKind))
    target_block: Mapped[int] = mapped_column(BigInteger)
    decided_at_ms: Mapped[int] = mapped_column(BigInteger)  # wall clock, epoch ms
    latency_ms: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    bundle_hash: Mapped[str | None] = mapped_column(String(66))
    relays: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    landed: Mapped[bool | None] = mapped_column(Boolean)
    realised_pnl: Mapped[int | None] = mapped_column(Wei)
    gas_cost: Mapped[int | None] = mapped_column(Wei)
    bid_paid: Mapped[int | None] = mapped_column(Wei)
    expected_pnl: Mapped[int | None] = mapped_column(Wei)
