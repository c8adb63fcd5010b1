"""The rolling replay on a short generated devnet: fidelity, exact screening, outcomes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.config import DevnetConfig
from devnet.generator import generate
from workbench.engine.replay import Replay
from workbench.errors import DatasetError
from workbench.strategy import create

BLOCKS = 40


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("devnet") / "short"
    generate(out, DevnetConfig(blocks=BLOCKS))
    yield out


def replayable(root: Path) -> tuple[int, int]:
    replay = Replay(root, create("cyclic_arb"))
    held = replay.dataset.block_range
    assert held is not None
    return replay.genesis_block + 1, held[1]


@pytest.mark.parametrize("strategy", ["cyclic_arb", "backrun_arb"])
def test_replay_is_faithful_and_screening_is_exact(devnet: Path, strategy: str) -> None:
    first, last = replayable(devnet)
    results = Replay(devnet, create(strategy, {"min_net_profit": 0})).run(first, last)
    assert [r.number for r in results] == list(range(first, last + 1))
    mismatches = [m for r in results for m in r.fidelity.mismatches]
    assert not mismatches, mismatches[:5]
    assert sum(r.fidelity.matched for r in results) == sum(r.tx_count for r in results) > 0
    ops = [o for r in results for o in r.opportunities]
    assert ops, f"{strategy} found nothing in {BLOCKS} devnet blocks"
    simulated = [o for o in ops if o.sim.status == "success"]
    assert simulated
    for o in simulated:  # screening and the EVM agree to the wei on V2/V3 paths
        assert o.sim.profit == o.intent.expected_profit, (o.block, o.intent.key)
        assert o.sim.bid_paid == o.sim.profit * o.intent.bid_bps // 10_000
    for o in ops:
        assert o.outcome.outcome in (
            "won",
            "lost_to_competitor",
            "reverted",
            "unprofitable_after_gas",
        )
        if o.outcome.outcome == "won":
            assert o.sim.status == "success" and o.outcome.pnl_with_competition == o.outcome.net > 0
        assert o.outcome.pnl_with_competition <= o.outcome.pnl_upper_bound
    assert sum(o.outcome.pnl_with_competition for o in ops) > 0


def test_bad_ranges_are_refused(devnet: Path) -> None:
    first, last = replayable(devnet)
    replay = Replay(devnet, create("cyclic_arb"))
    for a, b in ((first - 1, last), (first, last + 1), (last, first)):
        with pytest.raises(DatasetError, match="not replayable"):
            replay.check_range(a, b)
