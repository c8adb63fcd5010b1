"""The executor contract (``executor_contract.py``) run against every backend: the backtest's
simulated executor, and the live runner's shadow and relay executors (a local relay)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from devnet.relay_server import RelayServer
from live.executors import LiveContext, RelayExecutor, ShadowExecutor, Tally
from live.nonces import NonceManager
from live.relays import FanOut, FlashbotsRelay
from live.risk import RiskLimits, RiskManager
from live.signer import SearcherIdentity
from live.submit import BundleSender
from tests.integration.engine.executor_contract import Bench, ExecutorContract
from workbench.engine.bootstrap import execution_config
from workbench.engine.executor import Attempt, Executor, SimulatedExecutor
from workbench.store import ActionKind


class TestSimulatedExecutor(ExecutorContract):
    def make(self, bench: Bench) -> Executor:
        return SimulatedExecutor(bench.simulator)

    def check_settled(self, attempt: Attempt, bench: Bench) -> None:
        assert attempt.action is None  # a backtest's attempt is judged, not reconciled


def _context(bench: Bench) -> LiveContext:
    return LiveContext(
        simulator=lambda: bench.simulator,
        risk=RiskManager(RiskLimits(capital_cap=50 * 10**18, base_token=bench.market.weth)),
        tally=Tally(),
        weth=bench.market.weth,
        executor_address=bench.searcher.executor,
        nonce=lambda: None,
        follower_failed=lambda why: None,
    )


class TestShadowExecutor(ExecutorContract):
    def make(self, bench: Bench) -> Executor:
        self.ctx = _context(bench)
        return ShadowExecutor(self.ctx)

    def check_settled(self, attempt: Attempt, bench: Bench) -> None:
        assert attempt.action is not None and attempt.action.action == ActionKind.APPROVED
        assert attempt.action.target_block == bench.env.number and attempt.action.landed is None
        assert self.ctx.risk.reserved == 0  # its capital is free again


class TestRelayExecutor(ExecutorContract):
    @pytest.fixture(autouse=True)
    def relay(self) -> Iterator[RelayServer]:
        def no_simulation(request: object) -> object:
            raise AssertionError("eth_callBundle is not part of the contract")

        self.senders: list[BundleSender] = []
        with RelayServer(no_simulation) as server:  # type: ignore[arg-type]
            self.server = server
            yield server
        for sender in self.senders:
            sender.fanout.close()
            sender.nonces.close()

    def make(self, bench: Bench) -> Executor:
        self.ctx = _context(bench)
        account = bench.searcher.account
        self.sender = BundleSender(
            account,
            execution_config(bench.market, 31337, bench.searcher.executor),
            NonceManager(bench.tmp / f"nonces-{id(self.ctx)}", 31337, account.address),
            FanOut([FlashbotsRelay(self.server.url, SearcherIdentity(Account.create()))]),
        )
        self.senders.append(self.sender)
        return RelayExecutor(self.ctx, self.sender, lambda: bench.env.number - 1)

    def check_settled(self, attempt: Attempt, bench: Bench) -> None:
        action = attempt.action
        assert action is not None and action.target_block == bench.env.number
        if action.action == ActionKind.SUBMITTED:  # the best one; the others were not better
            assert action.landed is False and action.realised_pnl == 0
            assert [b.block for b in self.server.received] == [bench.env.number]
        else:
            assert action.action == ActionKind.SKIPPED and action.reason == "better_in_flight"
        assert self.ctx.risk.reserved == 0 and not self.sender.in_flight
