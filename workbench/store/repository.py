"""The store the engine writes to, one block per transaction, and reads back to resume.

``record_block`` commits a block together with its opportunities, simulations, outcomes and
live actions, so a killed run loses at most the block in flight; ``start_or_resume_run``
finds the run of an equal ``RunSpec.config_hash`` and ``next_block`` says where to carry on.
A live run's range grows with ``extend_run`` as blocks arrive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, fields
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workbench.store import db
from workbench.store.errors import (
    BlockAlreadyRecordedError,
    InvalidRecordError,
    RunChangedError,
    RunNotFoundError,
    StoreError,
)
from workbench.store.models import (
    BlockTable,
    LiveActionTable,
    OpportunityTable,
    OutcomeTable,
    RunTable,
    SimulationTable,
)
from workbench.store.records import (
    BlockRecord,
    LiveActionRecord,
    OpportunityRecord,
    RunInfo,
    RunSpec,
    RunStatus,
)


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (else ``$WORKBENCH_DB_URL``, else ``./workbench.db``), with its
    schema created or upgraded to the newest migration."""
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


class Store:
    """A run database: ``start_or_resume_run``, then ``record_block`` per block, then
    ``finish_run`` (or ``fail_run``). Reports read it with ``workbench.store.rows``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(engine)
        self._writer = sessionmaker(db.writer(engine))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start_or_resume_run(self, spec: RunSpec, *, allow_changed: bool = False) -> RunInfo:
        """The run of ``spec.config_hash`` if one exists (a failed one is set running again),
        else a new running run. A different ``git_sha`` on resume is noted on the run. A run
        made from another ``spec.identity`` (data digest, code version) is not resumed:
        ``RunChangedError``, unless ``allow_changed`` (then the change is noted on it)."""
        try:
            return self._start_or_resume(spec, allow_changed)
        except IntegrityError:  # another process created it between our select and insert
            return self._start_or_resume(spec, allow_changed)

    def _start_or_resume(self, spec: RunSpec, allow_changed: bool) -> RunInfo:
        with self._writer.begin() as session:
            run = session.scalar(select(RunTable).where(RunTable.config_hash == spec.config_hash))
            if run is None:
                run = _new_run(spec)
                session.add(run)
                session.flush()
                return _info(run)
            then = dict(run.notes.get("identity", {}))
            changes = {
                k: (then[k], v) for k, v in spec.identity.items() if k in then and then[k] != v
            }
            if changes and not allow_changed:
                raise RunChangedError(run.id, changes)
            if changes:
                changed = run.notes.get("resumed_changed", [])
                run.notes = {
                    **run.notes,
                    "identity": {**then, **spec.identity},
                    "resumed_changed": [*changed, {k: list(v) for k, v in changes.items()}],
                }
            if run.status == RunStatus.FAILED:
                run.status, run.finished_at = RunStatus.RUNNING, None
            shas = run.notes.get("resumed_at_git_sha", [])
            if spec.git_sha and spec.git_sha != run.git_sha and spec.git_sha not in shas:
                run.notes = {**run.notes, "resumed_at_git_sha": [*shas, spec.git_sha]}
            return _info(run, resumed=True)

    def get_run(self, run_id: int) -> RunInfo:
        with self._reader() as session:
            return _info(_run(session, run_id))

    def record_block(
        self, run: RunInfo, block: BlockRecord, opportunities: Iterable[OpportunityRecord]
    ) -> None:
        """Commits ``block`` of ``run`` with its opportunities (and their simulations and
        outcomes) in one transaction: all of it, or nothing if anything fails."""
        if not run.first_block <= block.number <= run.last_block:
            raise InvalidRecordError(
                f"block {block.number} is outside run {run.id}'s range "
                f"{run.first_block}-{run.last_block}"
            )
        try:
            with self._writer.begin() as session:
                _run(session, run.id)
                if session.get(BlockTable, (run.id, block.number)) is not None:
                    raise BlockAlreadyRecordedError(run.id, block.number)
                rows = _opportunity_rows(opportunities, block.number)
                session.add(_block_row(run.id, block, rows))
        except IntegrityError as e:  # a concurrent writer committed the same block first
            if block.number in self.processed_blocks(run):
                raise BlockAlreadyRecordedError(run.id, block.number) from e
            raise

    def drop_blocks(self, run: RunInfo, first: int, note: dict[str, object]) -> int:
        """Deletes ``run``'s blocks from ``first`` on, with their opportunities and actions, in
        one transaction, and appends ``note`` to the run's ``reorgs`` notes (a live run whose
        blocks a reorg orphaned: it records them again as the new chain holds them). Returns
        how many blocks were deleted."""
        with self._writer.begin() as session:
            row = _run(session, run.id)
            query = select(BlockTable).where(
                BlockTable.run_id == run.id, BlockTable.block_number >= first
            )
            dropped = list(session.scalars(query))
            for block in dropped:
                session.delete(block)  # cascades to its opportunities and their rows
            row.notes = {**row.notes, "reorgs": [*row.notes.get("reorgs", []), note]}
            return len(dropped)

    def extend_run(self, run: RunInfo, last_block: int) -> RunInfo:
        """The run with its range grown to end at ``last_block`` (a live run's range grows
        as blocks arrive); a smaller ``last_block`` changes nothing, the range never shrinks.
        Call it before ``record_block`` of a block beyond ``run.last_block``. A finished run
        given new blocks is running again; its ``config_hash`` (resume key) stays the same."""
        if not isinstance(last_block, int) or isinstance(last_block, bool):
            raise InvalidRecordError(f"last_block must be an int, got {type(last_block).__name__}")
        with self._writer.begin() as session:
            row = _run(session, run.id)
            if last_block > row.last_block:
                row.last_block = last_block
                if row.status == RunStatus.FINISHED:
                    row.status, row.finished_at = RunStatus.RUNNING, None
            return _info(row, resumed=run.resumed)

    def processed_blocks(self, run: RunInfo) -> list[int]:
        """The block numbers committed for ``run``, ascending."""
        with self._reader() as session:
            query = select(BlockTable.block_number).where(BlockTable.run_id == run.id)
            return list(session.scalars(query.order_by(BlockTable.block_number)))

    def next_block(self, run: RunInfo) -> int | None:
        """The first block of the run's range not yet committed; None when all are."""
        expected = run.first_block
        for number in self.processed_blocks(run):
            if number != expected:
                break
            expected += 1
        return expected if expected <= run.last_block else None

    def finish_run(self, run: RunInfo) -> RunInfo:
        """Marks the run finished; refuses while any block of its range is missing."""
        with self._writer.begin() as session:
            row = _run(session, run.id)
            done = session.scalar(select(func.count()).where(BlockTable.run_id == run.id)) or 0
            missing = row.last_block - row.first_block + 1 - done
            if missing:
                raise StoreError(
                    f"run {run.id} still has {missing} unprocessed blocks (the first is "
                    f"{self.next_block(run)}); record them before finishing the run"
                )
            row.status, row.finished_at = RunStatus.FINISHED, datetime.now(UTC)
            return _info(row)

    def fail_run(self, run: RunInfo, reason: str) -> RunInfo:
        """Marks the run failed with ``reason``; rerunning its command resumes it."""
        with self._writer.begin() as session:
            row = _run(session, run.id)
            row.status, row.finished_at = RunStatus.FAILED, datetime.now(UTC)
            row.notes = {**row.notes, "failure": reason}
            return _info(row)


def _run(session: Session, run_id: int) -> RunTable:
    row = session.get(RunTable, run_id)
    if row is None:
        raise RunNotFoundError(run_id)
    return row


def _new_run(spec: RunSpec) -> RunTable:
    return RunTable(
        created_at=datetime.now(UTC),
        status=RunStatus.RUNNING,
        strategy=spec.strategy,
        config=dict(spec.config),
        engine_params=dict(spec.engine),
        config_hash=spec.config_hash,
        git_sha=spec.git_sha,
        dataset_path=spec.dataset_path,
        dataset_chain_id=spec.dataset_chain_id,
        first_block=spec.first_block,
        last_block=spec.last_block,
        workers=spec.workers,
        notes={**spec.notes, **({"identity": dict(spec.identity)} if spec.identity else {})},
    )


def _info(run: RunTable, resumed: bool = False) -> RunInfo:
    return RunInfo(
        id=run.id,
        config_hash=run.config_hash,
        status=RunStatus(run.status),
        strategy=run.strategy,
        first_block=run.first_block,
        last_block=run.last_block,
        git_sha=run.git_sha,
        created_at=run.created_at,
        finished_at=run.finished_at,
        resumed=resumed,
    )


def _block_row(
    run_id: int, block: BlockRecord, opportunities: list[OpportunityTable]
) -> BlockTable:
    return BlockTable(
        run_id=run_id,
        block_number=block.number,
        processed_at=datetime.now(UTC),
        tx_count=block.tx_count,
        txs_matched=block.txs_matched,
        txs_mismatched=block.txs_mismatched,
        mempool_txs=block.mempool_txs,
        opportunity_count=len(opportunities),
        notes=dict(block.notes),
        opportunities=opportunities,
    )


def _opportunity_rows(records: Iterable[OpportunityRecord], block: int) -> list[OpportunityTable]:
    rows: dict[str, OpportunityTable] = {}
    for record in records:
        if record.key in rows:
            raise InvalidRecordError(f"opportunity {record.key} given twice in block {block}")
        rows[record.key] = _opportunity_row(record)
    return list(rows.values())


def _opportunity_row(record: OpportunityRecord) -> OpportunityTable:
    sim, outcome, action = record.simulation, record.outcome, record.action
    return OpportunityTable(
        strategy=record.strategy,
        key=record.key,
        route=[hop._asdict() for hop in record.route],
        amount_in=record.amount_in,
        expected_profit=record.expected_profit,
        min_profit=record.min_profit,
        gas_estimate=record.gas_estimate,
        bid_bps=record.bid_bps,
        priority_fee=record.priority_fee,
        after_tx=record.after_tx,
        parent_fullness_bps=record.parent_fullness_bps,
        predicted_revert=record.predicted_revert,
        reverts_next_block=record.reverts_next_block,
        simulation=None if sim is None else SimulationTable(**asdict(sim)),
        outcome=None if outcome is None else OutcomeTable(**asdict(outcome)),
        action=None if action is None else _action_row(action),
    )


def _action_row(record: LiveActionRecord) -> LiveActionTable:
    values = {f.name: getattr(record, f.name) for f in fields(record)}
    return LiveActionTable(**{**values, "relays": [dict(r) for r in record.relays]})
