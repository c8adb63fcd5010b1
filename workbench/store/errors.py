"""Errors of the run store; each names the run and block concerned and what to do."""

from __future__ import annotations

from workbench.errors import WorkbenchError


class StoreError(WorkbenchError, RuntimeError):
    """The run store cannot do what was asked (the message says why and what to do)."""


class InvalidRecordError(StoreError, ValueError):
    """A record the engine passed is malformed (a non-int amount, a block outside the run)."""


class RunNotFoundError(StoreError, LookupError):
    """No run with that id in this database."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"no run {run_id} in this database; list them with Store.runs()")


class RunChangedError(StoreError, ValueError):
    """A resume whose data or code differ from the run's (see ``RunSpec.identity``)."""

    def __init__(self, run_id: int, changes: dict[str, tuple[str, str]]) -> None:
        self.run_id = run_id
        self.changes = changes
        what = "; ".join(f"{k}: {a[:16]} then, {b[:16]} now" for k, (a, b) in changes.items())
        super().__init__(
            f"run {run_id} was computed from other inputs ({what}): resuming it would mix "
            "results of both. Pass --allow-changed to resume it anyway (noted on the run), or "
            "use another --db or block range for a new run"
        )


class BlockAlreadyRecordedError(StoreError, ValueError):
    """The block was already committed for this run; resume from ``Store.next_block``."""

    def __init__(self, run_id: int, block: int) -> None:
        self.run_id = run_id
        self.block = block
        super().__init__(
            f"block {block} of run {run_id} is already recorded; "
            "skip the blocks in Store.processed_blocks(run) when resuming"
        )
