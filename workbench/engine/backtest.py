"""A backtest run: the replay of a block range with one strategy, recorded block by block in
the store, resumable (rerun the same command after a crash), optionally split over worker
processes whose results are identical to one worker's."""

from __future__ import annotations

import multiprocessing
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.chain.tools import project_root
from workbench.engine.fidelity import Fidelity
from workbench.engine.loop import BlockResult
from workbench.engine.replay import DEFAULT_CAPITAL, Replay
from workbench.engine.replay_node import ForkSource
from workbench.errors import ConfigError
from workbench.scoring.inclusion import InclusionModel
from workbench.store import (
    BlockRecord,
    OpportunityRecord,
    OutcomeKind,
    OutcomeRecord,
    RunInfo,
    RunSpec,
    SimulationRecord,
    SimulationStatus,
    open_store,
)
from workbench.strategy.api import create

OnBlock = Callable[[BlockResult], None]


@dataclass(frozen=True)
class BacktestRequest:
    dataset: Path
    strategy: str
    config: Mapping[str, Any]
    first: int | None = None
    last: int | None = None
    workers: int = 1
    capital: int = DEFAULT_CAPITAL
    db_url: str | None = None
    inclusion: InclusionModel | None = None  # for strategies that bid by a fitted model
    fork: ForkSource | None = None  # where a fork-origin dataset's replay reads the chain
    market: Path | None = None  # the market to watch (default: the dataset's market.json)
    allow_changed: bool = False  # resume a run made from other data or code

    def replay(self) -> Replay:
        return Replay(
            self.dataset,
            create(self.strategy, self.config),
            capital=self.capital,
            inclusion=self.inclusion,
            fork=self.fork,
            market=self.market,
        )


def git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_identity(dataset_digest: str) -> dict[str, str]:
    """What a run's results come from: its data and the code (its commit, else the version,
    with ``+changed`` when the working tree differs from the commit)."""
    return {"dataset": dataset_digest, "code": code_version()}


def code_version() -> str:
    sha = git_sha()
    if sha is None:
        return f"workbench {__version__}"
    try:
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dirty = ""
    return sha + ("+changed" if dirty else "")


def block_range(req: BacktestRequest) -> tuple[int, int]:
    """The requested range, defaulting to every replayable block of the dataset."""
    return _replayable(req)[1:]


def _replayable(req: BacktestRequest) -> tuple[Replay, int, int]:
    """The replay (its dataset opened and verified once) and the checked block range."""
    replay = req.replay()
    held = replay.dataset.block_range
    first = req.first if req.first is not None else replay.genesis_block + 1
    last = req.last if req.last is not None else (held[1] if held else first)
    replay.check_range(first, last)
    return replay, first, last


def to_records(result: BlockResult) -> tuple[BlockRecord, list[OpportunityRecord]]:
    block = BlockRecord(
        number=result.number,
        tx_count=result.tx_count,
        txs_matched=result.fidelity.matched,
        txs_mismatched=len(result.fidelity.mismatches),
        mempool_txs=result.public_txs,
        notes=_fidelity_notes(result.fidelity),
    )
    opportunities = []
    for o in result.opportunities:
        sim, out = o.sim, o.outcome
        simulation = SimulationRecord(
            status=SimulationStatus(sim.status),
            gas_used=sim.gas_used,
            profit=sim.profit,
            bid_paid=sim.bid_paid,
            gas_cost=sim.gas_cost,
            revert_reason=sim.revert_reason,
            screening_profit_matches=sim.status != "success"
            or sim.profit == o.intent.expected_profit,
        )
        outcome = OutcomeRecord(
            outcome=OutcomeKind(out.outcome),
            competitor_tx=out.competitor.tx_hash if out.competitor else None,
            competitor_paid=out.competitor.paid if out.competitor else None,
            pnl_upper_bound=out.pnl_upper_bound,
            pnl_with_competition=out.pnl_with_competition,
        )
        opportunities.append(
            OpportunityRecord.from_intent(
                o.intent,
                simulation=simulation,
                outcome=outcome,
                parent_fullness_bps=o.parent_fullness_bps,
                predicted_revert=o.risk.p_revert,
                reverts_next_block=o.reverts_next_block,
                action=o.action,
            )
        )
    return block, opportunities


def _fidelity_notes(fidelity: Fidelity) -> dict[str, Any]:
    """What a block's replay left to say: its mismatches, their causes, a re-fork."""
    notes: dict[str, Any] = {}
    if fidelity.mismatches:
        notes |= {"mismatches": fidelity.mismatches, "causes": fidelity.causes}
    if fidelity.reforked:
        notes["reforked"] = True
    return notes


def _run_chunk(
    req: BacktestRequest, run_id: int, first: int, last: int, on_block: OnBlock | None = None
) -> None:
    """Replays the unprocessed blocks of ``first..last`` into run ``run_id``."""
    with open_store(req.db_url) as store:
        run = store.get_run(run_id)
        done = set(store.processed_blocks(run))
        todo = [b for b in range(first, last + 1) if b not in done]
        if not todo:
            return
        # Blocks are recorded in order, so what is left of a chunk is one contiguous tail.
        start = todo[0]
        replay = req.replay()

        def record(result: BlockResult) -> None:
            if result.number not in done:
                store.record_block(run, *to_records(result))
            if on_block is not None:
                on_block(result)

        replay.run(start, last, on_block=record)


def run_backtest(req: BacktestRequest, on_block: OnBlock | None = None) -> RunInfo:
    """Runs (or resumes) the backtest and returns the finished run."""
    if req.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {req.workers}")
    if req.workers > 1 and req.fork is not None and req.fork.record is not None:
        raise ConfigError("--record keeps one cassette: record with --workers 1")
    replay, first, last = _replayable(req)
    spec = RunSpec(
        strategy=req.strategy,
        config=dict(req.config),
        dataset_path=str(req.dataset.resolve()),
        dataset_chain_id=replay.market.chain_id,
        first_block=first,
        last_block=last,
        engine={
            "capital": str(req.capital),
            **({"inclusion": req.inclusion.to_json()} if req.inclusion else {}),
        },
        workers=req.workers,
        git_sha=git_sha(),
        identity=run_identity(replay.dataset.content_digest(first, last)),
    )
    with open_store(req.db_url) as store:
        run = store.start_or_resume_run(spec, allow_changed=req.allow_changed)
    chunks = _split(first, last, req.workers)
    if len(chunks) == 1:
        _run_chunk(req, run.id, first, last, on_block)
    else:
        # spawn, not fork: a forked child inherits polars' thread pool mid-state and can deadlock
        with ProcessPoolExecutor(
            max_workers=len(chunks), mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            futures = [pool.submit(_run_chunk, req, run.id, a, b) for a, b in chunks]
            for future in futures:
                future.result()
    with open_store(req.db_url) as store:
        return replace(store.finish_run(store.get_run(run.id)), resumed=run.resumed)


def _split(first: int, last: int, workers: int) -> list[tuple[int, int]]:
    n = last - first + 1
    size = -(-n // min(workers, n))
    return [(a, min(a + size - 1, last)) for a in range(first, last + 1, size)]
