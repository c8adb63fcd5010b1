"""The live runner's store writes, on a thread of their own and in block order, so that storing
a block (tens of ms of SQLAlchemy) is off the path from a pending transaction to its bundle.
A failed write is raised at the next block: nothing is lost silently."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from workbench.engine.backtest import to_records
from workbench.engine.loop import BlockResult
from workbench.store import RunInfo, open_store


class StoreWriter:
    def __init__(
        self,
        db_url: str | None,
        get_run: Callable[[], RunInfo | None],
        set_run: Callable[[RunInfo], None],
    ) -> None:
        self.db_url = db_url
        self._get, self._set = get_run, set_run  # the run written to (its range grows)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-store")
        self._writes: list[Future[None]] = []

    def record(self, result: BlockResult) -> None:
        """Stores ``result`` after the blocks submitted before it."""
        records = to_records(result)

        def write() -> None:
            run = self._get()
            assert run is not None
            with open_store(self.db_url) as store:
                if result.number > run.last_block:
                    run = store.extend_run(run, result.number)
                    self._set(run)
                store.record_block(run, *records)

        self.check()
        self._writes.append(self.pool.submit(write))

    def drop_from(self, first: int, note: dict[str, object]) -> None:
        """Deletes the stored blocks from ``first`` on (a reorg orphaned them), after the
        writes submitted before; ``note`` says what happened, in the run's notes."""

        def write() -> None:
            run = self._get()
            assert run is not None
            with open_store(self.db_url) as store:
                store.drop_blocks(run, first, note)

        self.check()
        self._writes.append(self.pool.submit(write))

    def check(self) -> None:
        """Raises the error of a failed write."""
        while self._writes and self._writes[0].done():
            self._writes.pop(0).result()

    def close(self) -> None:
        """Waits for every write; raises the first that failed."""
        self.pool.shutdown(wait=True)
        self.check()
