"""A strategy cannot tell which executor and clock it runs under: over the same devnet blocks,
a backtest (recorded blocks, simulated executor) and a shadow run (a live node on a wall
clock, the shadow executor) hand it the same contexts and get the same intents back."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from devnet import ensure_default_dataset
from devnet.live_node import DevnetNode
from live.engine import LiveEngine
from live.risk import RiskLimits, RiskManager
from workbench.engine.replay import Replay
from workbench.strategy.api import create
from workbench.strategy.context import PendingTx, StrategyContext
from workbench.strategy.intents import Intent

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

FIRST = 600


class Probe:
    """``backrun_arb`` with a record of everything it was shown and what it answered."""

    name: ClassVar[str] = "backrun_arb"

    def __init__(self) -> None:
        self.inner = create("backrun_arb", {})
        self.seen: list[tuple[Any, ...]] = []

    def _note(self, ctx: StrategyContext, tx: PendingTx | None, out: list[Intent]) -> None:
        pools = tuple(sorted((a, repr(p)) for a, p in ctx.pools.items()))
        self.seen.append(
            (
                ctx.block,
                ctx.base_token.lower(),
                pools,
                tuple(sorted(ctx.touched)),
                ctx.seed,
                ctx.inclusion,
                None if tx is None else (tx.hash, tx.sender.lower(), tx.nonce, tx.input),
                tuple(repr(i) for i in out),
            )
        )

    def on_block(self, ctx: StrategyContext) -> list[Intent]:
        out = self.inner.on_block(ctx)
        self._note(ctx, None, out)
        return out

    def on_pending(self, ctx: StrategyContext, tx: PendingTx) -> list[Intent]:
        out = self.inner.on_pending(ctx, tx)
        self._note(ctx, tx, out)
        return out


def test_the_same_contexts_and_intents_under_both_clocks_and_executors(tmp_path: Any) -> None:
    dataset = ensure_default_dataset()
    live = Probe()
    with DevnetNode(dataset, block_time=1.5, first_block=FIRST) as node:
        engine = LiveEngine(
            strategy=live,
            strategy_name=live.name,
            config={},
            rpc_url=node.rpc_url,
            ws_url=node.ws_url,
            market=node.market,
            risk=RiskManager(RiskLimits(capital_cap=2 * 10**18)),
            db_url=f"sqlite:///{tmp_path / 'runs.db'}",
            poll_seconds=0.3,
        )
        asyncio.run(engine.run(until_block=FIRST + 8))
    assert engine.run_info is not None
    # Transactions of the first slot may have been announced before the runner subscribed.
    first, last = engine.run_info.first_block + 1, FIRST + 8
    backtest = Probe()
    Replay(dataset, backtest).run(first, last)
    shown_live = [s for s in live.seen if first <= s[0].number <= last]
    assert shown_live == backtest.seen
    assert sum(s[6] is not None for s in shown_live) >= 10, "too few pending transactions"
    assert any(s[7] for s in shown_live), "no intents to compare"
