"""The store's behaviour, once for every backend: subclass ``StoreContract`` and give it a
``url`` fixture (SQLite here, PostgreSQL in tests/integration/store)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import polars as pl
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbench.store import (
    ActionKind,
    BlockAlreadyRecordedError,
    BlockRecord,
    InvalidRecordError,
    LiveActionRecord,
    OpportunityRecord,
    OutcomeKind,
    OutcomeRecord,
    RouteHop,
    RunNotFoundError,
    RunSpec,
    RunStatus,
    SimulationRecord,
    SimulationStatus,
    Store,
    StoreError,
    block_rows,
    live_action_rows,
    open_store,
    opportunity_rows,
    outcome_rows,
    run_rows,
    simulation_rows,
    to_frame,
)
from workbench.store.db import VERSION_TABLE, alembic_config, make_engine, upgrade
from workbench.store.models import (
    Base,
    LiveActionTable,
    OpportunityTable,
    RunTable,
    SimulationTable,
)

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
TX = "0x" + "ab" * 32
HEAD = "0003"
RELAYS = (
    {"relay": "flashbots", "status": "ok", "attempts": 1, "latency_ms": 41.5, "error": None},
    {"relay": "titan", "status": "error", "attempts": 3, "latency_ms": 900.0, "error": "503"},
)


def spec(**changes: Any) -> RunSpec:
    base = RunSpec(
        strategy="cyclic_arb",
        config={"min_profit": 10**15, "max_hops": 3},
        dataset_path="datasets/devnet",
        dataset_chain_id=31337,
        first_block=1,
        last_block=10,
        engine={"fidelity": "evm"},
        git_sha="a" * 40,
    )
    return replace(base, **changes)


def opportunity(key: str = "r1", *, amount: int = 10**18, pnl: int = -1) -> OpportunityRecord:
    return OpportunityRecord(
        strategy="cyclic_arb",
        key=key,
        route=(RouteHop("0x" + "11" * 20, WETH, "0x" + "22" * 20),),
        amount_in=amount,
        expected_profit=amount // 100,
        min_profit=1,
        gas_estimate=150_000,
        bid_bps=5000,
        priority_fee=10**9,
        simulation=simulation(profit=amount // 100),
        outcome=OutcomeRecord(
            outcome=OutcomeKind.WON, pnl_upper_bound=pnl, pnl_with_competition=pnl
        ),
    )


def simulation(profit: int) -> SimulationRecord:
    return SimulationRecord(
        status=SimulationStatus.SUCCESS,
        gas_used=140_000,
        profit=profit,
        bid_paid=profit // 2,
        gas_cost=140_000 * 10**10,
        screening_profit_matches=True,
    )


def live_action(**changes: Any) -> LiveActionRecord:
    """A bundle sent live that landed at a loss (gas and bid beyond the profit)."""
    base = LiveActionRecord(
        mode="live",
        action=ActionKind.SUBMITTED,
        target_block=2,
        decided_at_ms=1_764_000_000_123,
        latency_ms=12.25,
        tx_hash=TX,
        nonce=41,
        bundle_hash="0x" + "cd" * 32,
        relays=RELAYS,
        landed=True,
        realised_pnl=-(2**200) - 1,
        gas_cost=2**130 + 5,
        bid_paid=2**129,
        expected_pnl=2**255 - 1,
    )
    return replace(base, **changes)


def block(number: int, **changes: Any) -> BlockRecord:
    return replace(BlockRecord(number=number, tx_count=7, txs_matched=7), **changes)


class StoreContract:
    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError("a subclass provides the database URL")

    @pytest.fixture
    def store(self, url: str) -> Iterator[Store]:
        with open_store(url) as store:
            yield store

    def test_migration_creates_exactly_the_models(self, store: Store) -> None:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            assert compare_metadata(context, Base.metadata) == []
            head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
            assert context.get_current_revision() == head == HEAD

    def test_a_failed_upgrade_leaves_no_half_made_schema(self, url: str) -> None:
        engine = make_engine(url)

        def crash(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            if "CREATE TABLE opportunities" in statement:
                raise RuntimeError("killed mid-migration")

        event.listen(engine, "before_cursor_execute", crash)
        try:
            with pytest.raises(RuntimeError, match="mid-migration"):
                upgrade(engine)
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()

    def test_reopening_an_upgraded_database_changes_nothing(self, store: Store, url: str) -> None:
        run = store.start_or_resume_run(spec())
        with open_store(url) as again:
            assert again.get_run(run.id) == run

    def test_huge_and_negative_amounts_round_trip_exactly(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        big = replace(
            opportunity("big"),
            amount_in=2**256 - 1,
            expected_profit=2**255,
            simulation=simulation(profit=2**255 + 1),
            outcome=OutcomeRecord(
                outcome=OutcomeKind.LOST_TO_COMPETITOR,
                competitor_tx=TX,
                competitor_paid=2**200 + 3,
                pnl_upper_bound=-(2**255),
                pnl_with_competition=-(10**40) - 7,
            ),
        )
        store.record_block(run, block(1), [big])

        (opp,) = opportunity_rows(store, run.id)
        assert (opp["amount_in"], opp["expected_profit"]) == (2**256 - 1, 2**255)
        assert simulation_rows(store, run.id)[0]["profit"] == 2**255 + 1
        (out,) = outcome_rows(store, run.id)
        assert out["pnl_upper_bound"] == -(2**255)
        assert out["pnl_with_competition"] == -(10**40) - 7
        assert out["competitor_paid"] == 2**200 + 3
        assert out["outcome"] == "lost_to_competitor" and out["key"] == "big"
        assert type(out["pnl_upper_bound"]) is int

        frame = to_frame(outcome_rows(store, run.id))
        assert frame.schema["pnl_upper_bound"] == pl.Object
        assert frame["pnl_upper_bound"].to_list() == [-(2**255)]

    def test_amounts_wider_than_int256_are_refused(self) -> None:
        with pytest.raises(InvalidRecordError, match="wider than"):
            opportunity(amount=10**78)
        with pytest.raises(InvalidRecordError, match="must be an int"):
            OutcomeRecord(outcome=OutcomeKind.WON, pnl_upper_bound=1.5, pnl_with_competition=0)  # type: ignore[arg-type]

    def test_the_same_spec_resumes_the_same_run(self, store: Store) -> None:
        first = store.start_or_resume_run(spec())
        again = store.start_or_resume_run(spec(workers=8, notes={"why": "rerun"}))
        assert (again.id, again.resumed, first.resumed) == (first.id, True, False)
        other = store.start_or_resume_run(spec(config={"min_profit": 1, "max_hops": 3}))
        assert other.id != first.id
        assert store.start_or_resume_run(spec(last_block=11)).id not in (first.id, other.id)
        assert len(run_rows(store)) == 3

    def test_a_resume_on_other_code_is_noted(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        store.start_or_resume_run(spec(git_sha="b" * 40))
        store.start_or_resume_run(spec(git_sha="b" * 40))
        (row,) = run_rows(store)
        assert row["git_sha"] == run.git_sha == "a" * 40
        assert row["notes"] == {"resumed_at_git_sha": ["b" * 40]}

    def test_a_failed_run_is_running_again_when_resumed(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        failed = store.fail_run(run, "anvil died")
        assert failed.status == RunStatus.FAILED and failed.finished_at is not None
        again = store.start_or_resume_run(spec())
        assert again.status == RunStatus.RUNNING and again.finished_at is None
        assert run_rows(store)[0]["notes"] == {"failure": "anvil died"}

    def test_a_block_is_recorded_once(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        store.record_block(run, block(3), [opportunity("r1")])
        with pytest.raises(BlockAlreadyRecordedError) as caught:
            store.record_block(run, block(3), [opportunity("r2")])
        assert (caught.value.run_id, caught.value.block) == (run.id, 3)
        assert [o["key"] for o in opportunity_rows(store, run.id)] == ["r1"]

    def test_an_opportunity_key_is_unique_within_a_block(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        with pytest.raises(InvalidRecordError, match="r1 given twice in block 2"):
            store.record_block(run, block(2), [opportunity("r1"), opportunity("r1")])
        store.record_block(run, block(2), [opportunity("r1"), opportunity(f"r1@{TX}")])
        store.record_block(run, block(3), [opportunity("r1")])
        assert len(opportunity_rows(store, run.id)) == 3

    def test_the_database_enforces_uniqueness(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        store.record_block(run, block(1), [opportunity("r1")])
        (row,) = opportunity_rows(store, run.id)
        fields = {k: v for k, v in row.items() if k != "id"}
        with Session(store.engine) as session, pytest.raises(IntegrityError):
            session.add(OpportunityTable(**fields))
            session.commit()
        with Session(store.engine) as session, pytest.raises(IntegrityError):
            sim = simulation_rows(store, run.id)[0]
            session.add(
                SimulationTable(
                    **{k: sim[k] for k in sim if k not in ("id", "block_number", "key")}
                )
            )
            session.commit()

    def test_a_failure_inside_the_transaction_leaves_nothing_of_the_block(
        self, store: Store
    ) -> None:
        run = store.start_or_resume_run(spec())

        def boom(*_: object) -> None:  # fires after the block and opportunity rows went out
            raise RuntimeError("simulated crash mid-block")

        event.listen(SimulationTable, "before_insert", boom)
        try:
            with pytest.raises(RuntimeError, match="mid-block"):
                store.record_block(run, block(1), [opportunity("r1"), opportunity("r2")])
        finally:
            event.remove(SimulationTable, "before_insert", boom)
        assert store.processed_blocks(run) == []
        assert opportunity_rows(store, run.id) == []

        def failing() -> Iterator[OpportunityRecord]:
            yield opportunity("r1")
            raise RuntimeError("the strategy crashed")

        with pytest.raises(RuntimeError, match="strategy crashed"):
            store.record_block(run, block(1), failing())
        assert store.processed_blocks(run) == [] and opportunity_rows(store, run.id) == []

        store.record_block(run, block(1), [opportunity("r1"), opportunity("r2")])
        assert block_rows(store, run.id)[0]["opportunity_count"] == 2
        assert len(simulation_rows(store, run.id)) == len(outcome_rows(store, run.id)) == 2

    def test_blocks_outside_the_run_or_unknown_runs_are_refused(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        with pytest.raises(InvalidRecordError, match="outside run"):
            store.record_block(run, block(11), [])
        with pytest.raises(RunNotFoundError):
            store.record_block(replace(run, id=run.id + 100), block(1), [])

    def test_next_block_is_the_first_gap(self, store: Store) -> None:
        run = store.start_or_resume_run(spec(first_block=5, last_block=8))
        assert store.next_block(run) == 5
        for number in (5, 6, 8):
            store.record_block(run, block(number), [])
        assert store.processed_blocks(run) == [5, 6, 8]
        assert store.next_block(run) == 7
        with pytest.raises(StoreError, match="1 unprocessed blocks \\(the first is 7\\)"):
            store.finish_run(run)
        store.record_block(run, block(7), [])
        assert store.next_block(run) is None

        finished = store.finish_run(run)
        assert finished.status == RunStatus.FINISHED
        assert finished.finished_at is not None and finished.finished_at.tzinfo is not None
        assert store.start_or_resume_run(spec(first_block=5, last_block=8)).status == "finished"

    def test_block_rows_keep_fidelity_and_notes(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        notes = {"mismatches": [{"tx": TX, "field": "gasUsed"}]}
        record = block(4, tx_count=9, txs_matched=8, txs_mismatched=1, mempool_txs=30, notes=notes)
        store.record_block(run, record, [opportunity()])
        (row,) = block_rows(store, run.id)
        assert row["tx_count"] == 9 and (row["txs_matched"], row["txs_mismatched"]) == (8, 1)
        assert (row["mempool_txs"], row["opportunity_count"], row["notes"]) == (30, 1, notes)
        assert row["processed_at"].tzinfo is not None

    def test_parallel_writers_share_one_database(self, store: Store, url: str) -> None:
        run = store.start_or_resume_run(spec(last_block=40))
        errors: list[BaseException] = []

        def work(numbers: range) -> None:
            try:
                with open_store(url) as mine:
                    for number in numbers:
                        mine.record_block(run, block(number), [opportunity()])
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=work, args=(range(i, 41, 2),)) for i in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.processed_blocks(run) == list(range(1, 41))

    def test_a_live_action_round_trips_exactly(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        rejected = live_action(
            mode="shadow",
            action="rejected",
            reason="capital_cap",
            detail="2.5 ETH in flight > cap 2 ETH",
            latency_ms=None,
            tx_hash=None,
            nonce=None,
            bundle_hash=None,
            relays=(),
            landed=None,
            realised_pnl=None,
            gas_cost=None,
            bid_paid=None,
        )
        records = [
            replace(opportunity("sent"), action=live_action()),
            replace(opportunity("no"), action=rejected),
            opportunity("plain"),
        ]
        store.record_block(run, block(1), records)

        sent, no = live_action_rows(store, run.id)
        assert (sent["key"], sent["block_number"], no["key"]) == ("sent", 1, "no")
        assert sent["realised_pnl"] == -(2**200) - 1 and type(sent["realised_pnl"]) is int
        assert (sent["gas_cost"], sent["bid_paid"]) == (2**130 + 5, 2**129)
        assert sent["expected_pnl"] == 2**255 - 1
        assert sent["relays"] == list(RELAYS)
        assert (sent["mode"], sent["action"], sent["landed"]) == ("live", "submitted", True)
        assert (sent["nonce"], sent["tx_hash"], sent["latency_ms"]) == (41, TX, 12.25)
        assert sent["decided_at_ms"] == 1_764_000_000_123 and sent["target_block"] == 2
        assert (no["mode"], no["action"], no["reason"]) == ("shadow", "rejected", "capital_cap")
        assert no["detail"] == "2.5 ETH in flight > cap 2 ETH"
        assert no["relays"] == [] and no["realised_pnl"] is None and no["landed"] is None

        with Session(store.engine) as session:
            row = session.scalars(select(LiveActionTable).where(LiveActionTable.nonce == 41)).one()
            back = LiveActionRecord(
                **{k: getattr(row, k) for k in LiveActionRecord.__dataclass_fields__}
            )
        assert back == live_action()
        frame = to_frame(live_action_rows(store, run.id))
        assert frame.schema["realised_pnl"] == pl.Object
        assert frame["relays"].to_list()[0] == list(RELAYS)

    def test_deleting_a_run_deletes_its_live_actions(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        other = store.start_or_resume_run(spec(strategy="backrun_arb"))
        for r in (run, other):
            store.record_block(r, block(1), [replace(opportunity(), action=live_action())])
        with Session(store.engine) as session, session.begin():
            session.delete(session.get(RunTable, run.id))
        assert live_action_rows(store, run.id) == []
        assert len(live_action_rows(store, other.id)) == 1
        with Session(store.engine) as session, session.begin():
            (opp,) = session.scalars(
                select(OpportunityTable).where(OpportunityTable.run_id == other.id)
            )
            session.execute(text("DELETE FROM opportunities WHERE id = :id"), {"id": opp.id})
        assert live_action_rows(store, other.id) == []  # ON DELETE CASCADE in the database

    def test_the_database_checks_the_action_kind_and_uniqueness(self, store: Store) -> None:
        run = store.start_or_resume_run(spec())
        store.record_block(run, block(1), [replace(opportunity(), action=live_action())])
        (row,) = live_action_rows(store, run.id)
        for sql in (
            "UPDATE live_actions SET action = 'bought_a_yacht'",
            "UPDATE live_actions SET mode = 'paper'",
        ):
            with store.engine.connect() as connection, pytest.raises(IntegrityError):
                connection.execute(text(sql))
        fields = {k: v for k, v in row.items() if k not in ("id", "block_number", "key")}
        with Session(store.engine) as session, pytest.raises(IntegrityError):
            session.add(LiveActionTable(**fields))  # a second action for the same opportunity
            session.commit()

    def test_extend_run_grows_the_range_and_never_shrinks_it(self, store: Store) -> None:
        run = store.start_or_resume_run(spec(first_block=5, last_block=5))
        store.record_block(run, block(5), [])
        with pytest.raises(InvalidRecordError, match="outside run"):
            store.record_block(run, block(6), [])
        finished = store.finish_run(run)
        assert store.next_block(finished) is None

        grown = store.extend_run(finished, 7)
        assert (grown.first_block, grown.last_block, grown.id) == (5, 7, run.id)
        assert grown.status == RunStatus.RUNNING and grown.finished_at is None
        assert store.next_block(grown) == 6
        store.record_block(grown, block(7), [replace(opportunity(), action=live_action())])
        store.record_block(grown, block(6), [])
        assert store.extend_run(grown, 6) == grown  # never shrinks
        assert store.extend_run(run, 3).last_block == 7  # stale info: the stored range wins
        assert store.get_run(run.id).last_block == 7
        assert store.finish_run(grown).status == RunStatus.FINISHED
        again = store.start_or_resume_run(spec(first_block=5, last_block=5))
        assert (again.id, again.last_block) == (run.id, 7)  # the resume key is unchanged
        with pytest.raises(RunNotFoundError):
            store.extend_run(replace(run, id=run.id + 100), 9)

    def test_blocks_a_reorg_orphaned_are_dropped_and_recorded_again(self, store: Store) -> None:
        run = store.start_or_resume_run(spec(first_block=1, last_block=4))
        for n in range(1, 5):
            store.record_block(run, block(n), [replace(opportunity(), action=live_action())])
        note = {"fork_point": 2, "orphaned": [{"number": 3, "hash": "0x03"}]}
        assert store.drop_blocks(run, 3, note) == 2
        assert store.processed_blocks(run) == [1, 2] and store.next_block(run) == 3
        assert len(live_action_rows(store, run.id)) == 2  # theirs went with them
        store.record_block(run, block(3), [replace(opportunity(), action=live_action())])
        assert store.drop_blocks(run, 4, {"fork_point": 3, "orphaned": []}) == 0
        (row,) = run_rows(store)
        assert row["notes"]["reorgs"] == [note, {"fork_point": 3, "orphaned": []}]
