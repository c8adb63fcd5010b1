"""Screening and the EVM agree to the wei: a strategy's intent, simulated through a freshly
deployed Executor owned by a new key, on the real Uniswap V2/V3 bytecode."""

from __future__ import annotations

import pytest
from eth_account import Account

from workbench.chain.abi import encode_call, encode_deploy
from workbench.chain.anvil import Anvil
from workbench.chain.contracts import artifact
from workbench.chain.market_spec import DeployedMarket
from workbench.chain.transact import Sender
from workbench.execution.bundle import ExecutionConfig
from workbench.execution.simulate import AnvilSimulator
from workbench.market.fetch import fetch_pool_state
from workbench.market.graph import CycleIndex, find_cycles
from workbench.strategy import BlockEnv, StrategyContext, create
from workbench.strategy.builtin.arb_screen import ArbConfig, screen

E18 = 10**18
COINBASE = "0x000000000000000000000000000000000000c0b1"


def setup_searcher(node: Anvil, m: DeployedMarket) -> tuple[AnvilSimulator, StrategyContext]:
    account = Account.create()  # a throwaway key: never printed, never stored
    node.set_balance(account.address, 10 * E18)
    node.impersonate(account.address)
    executor = (
        Sender(node.rpc, account.address)
        .send(None, encode_deploy(artifact("Executor"), [m.weth]))
        .contract_address
    )
    node.stop_impersonating(account.address)
    assert executor
    deployer = Sender(node.rpc, m.deployer)
    deployer.send(m.weth, encode_call("WETH9", "deposit"), value=20 * E18)
    deployer.send(m.weth, encode_call("WETH9", "transfer", [executor, 20 * E18]))
    pools = [fetch_pool_state(node.rpc, a) for a in [*m.v2_pairs.values(), *m.v3_pools.values()]]
    assert m.v3_factory
    cfg = ExecutionConfig(
        chain_id=31337,
        executor=executor,
        v3_factories={p.lower(): m.v3_factory for p in m.v3_pools.values()},
    )
    latest = node.rpc.call("eth_getBlockByNumber", ["latest", False])
    block = BlockEnv(
        number=int(latest["number"], 16) + 1,
        timestamp=int(latest["timestamp"], 16) + 12,
        base_fee=10**9,
    )
    ctx = StrategyContext(
        block=block,
        base_token=m.weth,
        pools={p.address.lower(): p for p in pools},
        cycles=CycleIndex.of(find_cycles(pools, m.weth)),
    )
    return AnvilSimulator(node, account, cfg), ctx


@pytest.mark.parametrize(("bid_bps", "tip"), [(0, 10**8), (9000, 0)])
def test_evm_profit_equals_screening_profit(
    market: tuple[Anvil, DeployedMarket], bid_bps: int, tip: int
) -> None:
    node, m = market
    sim, ctx = setup_searcher(node, m)
    config = {"min_net_profit": 0, "bid_bps": bid_bps, "priority_fee": tip}
    strategy = create("cyclic_arb", config)
    assert isinstance(strategy.config, ArbConfig)
    # Every profitable cycle on its own (the strategy keeps only non-overlapping ones).
    cycles = ctx.cycles.touching(ctx.cycles.by_pool)
    intents = [i for c in cycles for i in screen(ctx, [c], strategy.config, "cyclic_arb")]
    assert len(intents) >= 3, "the ARB_SPEC market is built with mispriced V2 and V3 pools"
    kinds = set()
    for intent in intents:
        kinds |= {type(h.pool).__name__ for h in intent.cycle.hops}
        head = node.block_number()
        result = sim.simulate(intent, ctx.block, COINBASE)
        assert result.status == "success", result.revert_reason
        assert result.profit == intent.expected_profit  # to the wei
        assert result.bid_paid == intent.expected_profit * bid_bps // 10_000
        assert result.gas_cost == result.gas_used * (10**9 + tip)
        assert result.gas_limit > result.gas_used
        assert node.block_number() == head  # the simulation left no trace
    assert kinds == {"UniswapV2Pool", "UniswapV3State"}


def test_a_failing_bundle_is_an_outcome_with_its_reason(
    market: tuple[Anvil, DeployedMarket],
) -> None:
    node, m = market
    sim, ctx = setup_searcher(node, m)
    intent = create("cyclic_arb", {"min_net_profit": 0}).on_block(ctx)[0]
    greedy = type(intent)(
        **{
            **{f: getattr(intent, f) for f in intent.__dataclass_fields__},
            "min_profit": intent.expected_profit + 1,
        }
    )
    result = sim.simulate(greedy, ctx.block, COINBASE)
    assert (
        result.status == "reverted"
        and result.revert_reason
        and result.revert_reason.startswith("Unprofitable(")
    )
    assert result.gas_used > 0 and result.profit == 0
