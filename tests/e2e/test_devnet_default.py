"""On the devnet default (built if missing), both built-in strategies find and win the
opportunities the informed traders create: net PnL > 0 after gas, bids and competition, and
every won bundle was simulated on the EVM with the screening profit to the wei. The README's
figures of the devnet default and of both backtests are checked here."""

from __future__ import annotations

import pytest

from devnet import ensure_default_dataset, load_info
from tests.readme_claims import claim, eth, number
from workbench.engine.replay import Replay
from workbench.strategy import create

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("strategy", ["cyclic_arb", "backrun_arb"])
def test_strategies_win_on_the_devnet_default(strategy: str) -> None:
    root = ensure_default_dataset()
    replay = Replay(root, create(strategy))  # the default config: what `make backtest` runs
    held = replay.dataset.block_range
    assert held is not None
    results = replay.run(replay.genesis_block + 1, held[1])
    assert all(not r.fidelity.mismatches for r in results)
    ops = [o for r in results for o in r.opportunities]
    won = [o for o in ops if o.outcome.outcome == "won"]
    assert won, f"{strategy} won nothing on the devnet default"
    for o in won:
        assert o.sim.status == "success" and o.sim.tx_hash  # simulated on the EVM
        assert o.sim.profit == o.intent.expected_profit
    net = sum(o.outcome.pnl_with_competition for o in ops)
    assert net > 0 and net == sum(o.outcome.net for o in won)
    # the README's paragraph on the devnet default
    said = claim(
        rf"`{strategy}` wins ([\d,]+) of ([\d,]+) \(net ([\d.]+) ETH, upper bound ([\d.]+) ETH\)"
    )
    upper = sum(o.outcome.pnl_upper_bound for o in ops)
    assert (len(won), len(ops)) == (number(said[1]), number(said[2]))
    assert (eth(net, said[3]), eth(upper, said[4])) == (said[3], said[4])
    fidelity = claim(r"replay fidelity ([\d,]+)/([\d,]+) transactions")
    matched = sum(r.fidelity.matched for r in results)
    assert (matched, sum(r.tx_count for r in results)) == (number(fidelity[1]), number(fidelity[2]))


def test_the_readme_describes_the_devnet_default() -> None:
    stats = load_info(ensure_default_dataset())["stats"]
    said = claim(
        r"\(seed 1, 300 blocks: ([\d,]+) transactions, ([\d,]+) bot arbitrages, ([\d.]+) ETH "
        r"of coinbase bids"
    )
    assert stats["transactions"] == number(said[1])
    assert sum(stats["arbitrage_txs"].values()) == number(said[2])
    assert eth(int(stats["coinbase_bids_wei"]), said[3]) == said[3]
