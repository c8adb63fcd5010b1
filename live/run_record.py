"""A live run in the store: its spec when it starts (the node's URL redacted), its end as
finished or failed (with why), and the note a reorg leaves in it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from live.reorg import Processed
from workbench.engine.backtest import git_sha
from workbench.rpc.redact import redact_url
from workbench.store import RunInfo, RunSpec, open_store
from workbench.strategy.models import WinModel


def live_run_spec(
    *,
    strategy: str,
    config: Mapping[str, Any],
    rpc_url: str,
    chain_id: int,
    head: int,
    mode: str,
    session: datetime,
    capital_cap: int,
    inclusion: WinModel | None,
) -> RunSpec:
    """The run of a runner that starts after block ``head``; its range grows with the chain."""
    return RunSpec(
        strategy=strategy,
        config=config,
        dataset_path=f"live:{redact_url(rpc_url)}",
        dataset_chain_id=chain_id,
        first_block=head + 1,
        last_block=head + 1,
        engine={
            "mode": mode,
            "session": session.isoformat(),
            "capital_cap": str(capital_cap),
            **({"inclusion": inclusion.to_json()} if inclusion else {}),  # type: ignore[attr-defined]
        },
        workers=1,
        git_sha=git_sha(),
    )


def start_run(db_url: str | None, spec: RunSpec) -> RunInfo:
    with open_store(db_url) as store:
        return store.start_or_resume_run(spec)


def end_run(db_url: str | None, run: RunInfo, crash: str | None) -> RunInfo:
    """Stores ``run`` as finished, or as failed when it crashed (``crash``: why) or stopped
    before its first block."""
    with open_store(db_url) as store:
        stored = store.get_run(run.id)
        if crash is not None:
            return store.fail_run(stored, f"crashed: {crash}")
        if store.processed_blocks(stored):
            return store.finish_run(stored)
        return store.fail_run(stored, "stopped before its first block")


def reorg_note(fork: int, orphaned: Sequence[Processed]) -> dict[str, object]:
    """What the run's ``reorgs`` notes keep of one reorg."""
    return {
        "at": datetime.now(UTC).isoformat(),
        "fork_point": fork,
        "orphaned": [{"number": p.number, "hash": p.hash} for p in orphaned],
    }
