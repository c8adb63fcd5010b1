"""The contract every ``Executor`` keeps, as one suite subclassed per backend (as web3.py runs
one suite per provider): an intent on a real Anvil market becomes an attempt simulated at the
strategy's screening profit to the wei, a failing bundle is an attempt and never an
exception, the realised check holds while the opportunity stands, settlement after the target
block works, and the strategy's intents are what it returns without any executor at all."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARB_SPEC
from workbench.chain.anvil import Anvil
from workbench.chain.deploy import deploy_market
from workbench.chain.eip1559 import next_base_fee
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.bootstrap import execution_config, watched_pools
from workbench.engine.executor import Attempt, Executor, Placement, SlotEnv
from workbench.engine.loop import BlockLoop
from workbench.engine.searcher import Searcher, install_searcher
from workbench.engine.slot import TOP_OF_BLOCK, Slot
from workbench.execution.simulate import AnvilSimulator
from workbench.market.graph import CycleIndex, find_cycles
from workbench.sources.block_view import BlockData
from workbench.strategy.api import create
from workbench.strategy.context import BlockEnv
from workbench.strategy.intents import ArbIntent

E18 = 10**18


@dataclasses.dataclass
class Bench:
    node: Anvil
    market: DeployedMarket
    searcher: Searcher
    simulator: AnvilSimulator
    env: BlockEnv
    coinbase: str
    tmp: Path


def _env(node: Anvil) -> BlockEnv:
    head = node.rpc.call("eth_getBlockByNumber", ["latest", False])
    return BlockEnv(
        number=int(head["number"], 16) + 1,
        timestamp=int(head["timestamp"], 16) + 12,
        base_fee=next_base_fee(
            int(head["baseFeePerGas"], 16), int(head["gasUsed"], 16), int(head["gasLimit"], 16)
        ),
        gas_limit=int(head["gasLimit"], 16),
        parent_gas_used=int(head["gasUsed"], 16),
    )


class ExecutorContract:
    """Subclasses say how to build their executor (``make``) and what settlement leaves."""

    def make(self, bench: Bench) -> Executor:
        raise NotImplementedError

    def check_settled(self, attempt: Attempt, bench: Bench) -> None:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def chain(cls) -> Iterator[tuple[Anvil, DeployedMarket]]:
        with Anvil() as node:
            yield node, deploy_market(node.rpc, ARB_SPEC)

    @pytest.fixture
    def bench(self, chain: tuple[Anvil, DeployedMarket], tmp_path: Path) -> Iterator[Bench]:
        node, market = chain
        snap = node.snapshot()
        try:
            searcher = install_searcher(node, market.weth, 20 * E18)
            cfg = execution_config(market, 31337, searcher.executor)
            simulator = AnvilSimulator(node, searcher.account, cfg)
            yield Bench(
                node,
                market,
                searcher,
                simulator,
                _env(node),
                node.rpc.call("eth_coinbase"),
                tmp_path,
            )
        finally:
            node.revert(snap)

    def _loop(self, bench: Bench, executor: Executor) -> tuple[BlockLoop, dict[str, Any]]:
        pools = watched_pools(bench.node.rpc, bench.market)
        cycles = CycleIndex.of(find_cycles(pools, bench.market.weth))
        loop = BlockLoop(
            create("cyclic_arb"), executor, base_token=bench.market.weth, cycles=cycles
        )
        by_address = {p.address.lower(): p for p in pools}
        loop.open(bench.env, bench.coinbase, by_address, frozenset(by_address))
        return loop, by_address

    def _expected(self, bench: Bench, pools: dict[str, Any]) -> list[ArbIntent]:
        """What the strategy returns for the same inputs with no executor anywhere."""
        cycles = CycleIndex.of(find_cycles(pools.values(), bench.market.weth))
        slot = Slot(
            create("cyclic_arb"), bench.env, bench.market.weth, pools, cycles, frozenset(pools)
        )
        return slot.on_block()

    def test_intents_are_the_strategy_s_own_and_simulate_at_their_screening_profit(
        self, bench: Bench
    ) -> None:
        loop, pools = self._loop(bench, self.make(bench))
        attempts = asyncio.run(loop.top_of_block())
        assert attempts, "ARB_SPEC holds profitable cycles"
        assert [a.intent for a in attempts] == self._expected(bench, pools)
        for a in attempts:
            assert a.placement.position == TOP_OF_BLOCK
            assert a.sim.status == "success", a.sim.revert_reason
            assert a.sim.profit == a.intent.expected_profit  # screening equals the EVM

    def test_a_failing_bundle_is_an_attempt_not_an_exception(self, bench: Bench) -> None:
        _, pools = self._loop(bench, self.make(bench))
        (intent, *_) = self._expected(bench, pools)
        greedy = dataclasses.replace(intent, min_profit=intent.expected_profit * 10)
        executor = self.make(bench)
        attempt = asyncio.run(
            executor.execute(greedy, SlotEnv(bench.env, bench.coinbase), Placement(TOP_OF_BLOCK))
        )
        assert attempt.sim.status == "reverted" and "Unprofitable" in (
            attempt.sim.revert_reason or ""
        )
        assert not attempt.approved

    def test_the_realised_check_holds_while_the_opportunity_stands(self, bench: Bench) -> None:
        executor = self.make(bench)
        loop, _ = self._loop(bench, executor)
        attempts = asyncio.run(loop.top_of_block())
        assert not any(executor.reverts_now(a.intent) for a in attempts)

    def test_settled_after_its_target_block(self, bench: Bench) -> None:
        executor = self.make(bench)
        loop, _ = self._loop(bench, executor)
        attempts = asyncio.run(loop.top_of_block())
        bench.node.mine(timestamp=bench.env.timestamp)  # the block passes without our bundle
        block = BlockData(
            number=bench.env.number,
            timestamp=bench.env.timestamp,
            base_fee=bench.env.base_fee,
            miner=bench.coinbase,
            gas_limit=bench.env.gas_limit,
            gas_used=0,
            transactions=[],
            receipts={},
            logs=[],
        )
        executor.settle(attempts, block)
        for a in attempts:
            self.check_settled(a, bench)
