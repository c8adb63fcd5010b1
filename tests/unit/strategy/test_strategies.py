"""Strategies run from a hand-built context: no network, no Anvil, no clock."""

from __future__ import annotations

import socket

import pytest

from workbench.errors import ConfigError
from workbench.market.graph import CycleIndex, find_cycles
from workbench.market.sizing import simulate
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.strategy import BlockEnv, PendingTx, StrategyContext, available, create
from workbench.strategy.models import break_even

WETH, TKA, TKB = "0x" + "ee" * 20, "0x" + "aa" * 20, "0x" + "bb" * 20
E18 = 10**18


def v2(addr: str, t0: str, t1: str, r0: int, r1: int, fee: int = 3000) -> UniswapV2Pool:
    return UniswapV2Pool(
        address="0x" + addr * 40, token0=t0, token1=t1, reserve0=r0, reserve1=r1, fee=fee
    )


def context(
    pools: list[UniswapV2Pool],
    touched: frozenset[str] = frozenset(),
    pending: PendingTx | None = None,
) -> StrategyContext:
    by_addr = {p.address.lower(): p for p in pools}
    return StrategyContext(
        block=BlockEnv(number=100, timestamp=1_700_000_000, base_fee=10**9),
        base_token=WETH,
        pools=by_addr,
        cycles=CycleIndex.of(find_cycles(pools, WETH)),
        touched=touched,
        pending=pending,
    )


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a strategy tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_cyclic_arb_finds_the_exact_opportunity() -> None:
    cheap = v2("1", TKA, WETH, 210_000 * E18, 100 * E18)  # 2100 TKA per WETH
    dear = v2("2", TKA, WETH, 200_000 * E18, 100 * E18)  # 2000 TKA per WETH
    unrelated = v2("3", TKB, WETH, 10**21, 10**21)
    strategy = create("cyclic_arb", {"bid_bps": 9000, "min_net_profit": 0})
    intents = strategy.on_block(context([cheap, dear, unrelated]))
    assert len(intents) == 1  # both directions share the pools: only the profitable one is kept
    intent = intents[0]
    assert [h.pool.address for h in intent.cycle.hops] == [cheap.address, dear.address]
    _, profit = simulate(intent.cycle, intent.amount_in)
    assert profit == intent.expected_profit > 0
    gas_cost = intent.gas_estimate * 10**9
    assert intent.min_profit == break_even(gas_cost, 9000)
    assert intent.expected_profit - intent.expected_profit * 9000 // 10_000 - gas_cost >= 0
    assert (
        strategy.on_pending(
            context([cheap, dear]),
            PendingTx(hash="0x1", sender=WETH, to=None, nonce=0, value=0, gas=1, input="0x"),
        )
        == []
    )


def test_no_intent_when_gas_eats_the_profit() -> None:
    a = v2("1", TKA, WETH, 2_000_100 * E18, 1_000 * E18)
    b = v2("2", TKA, WETH, 2_000_000 * E18, 1_000 * E18)
    assert create("cyclic_arb", {"min_net_profit": 0}).on_block(context([a, b])) == []


def test_backrun_targets_the_pending_transaction() -> None:
    moved = v2("1", TKA, WETH, 210_000 * E18, 100 * E18)  # the state after the pending swap
    other = v2("2", TKA, WETH, 200_000 * E18, 100 * E18)
    tx = PendingTx(
        hash="0xabc", sender=TKB, to=moved.address, nonce=3, value=0, gas=200_000, input="0x"
    )
    ctx = context([moved, other], touched=frozenset({moved.address.lower()}), pending=tx)
    strategy = create("backrun_arb", {"min_net_profit": 0})
    intents = strategy.on_pending(ctx, tx)
    assert (
        len(intents) == 1 and intents[0].after_tx == "0xabc" and intents[0].key.endswith("@0xabc")
    )
    assert strategy.on_block(ctx) == []
    untouched = context([moved, other], touched=frozenset(), pending=tx)
    assert strategy.on_pending(untouched, tx) == []


def test_registry_and_config_errors_say_what_to_do() -> None:
    assert {"cyclic_arb", "backrun_arb"} <= set(available())
    with pytest.raises(ConfigError, match=r"unknown strategy 'sandwich'.*cyclic_arb"):
        create("sandwich")
    with pytest.raises(ConfigError, match=r"bid_bps.*(less than|<=)"):
        create("cyclic_arb", {"bid_bps": 20_000})
    with pytest.raises(ConfigError, match="bogus"):
        create("cyclic_arb", {"bogus": 1})
    cfg = create("cyclic_arb").config
    with pytest.raises(Exception, match="frozen"):
        cfg.bid_bps = 1  # type: ignore[misc]
    assert set(type(cfg).tunables()) == {
        "min_net_profit",
        "bid_bps",
        "bid_policy",
        "bid_margin_bps",
        "slippage_bps",
    }


def test_a_redefined_strategy_replaces_itself_but_not_another() -> None:
    from typing import ClassVar

    from workbench.strategy import StrategyConfig, register

    def define() -> type:
        class Probe:
            name: ClassVar[str] = "probe_strategy"

            def __init__(self, config: StrategyConfig) -> None:
                self.config = config

            def on_block(self, ctx: StrategyContext) -> list:
                return []

            def on_pending(self, ctx: StrategyContext, tx: PendingTx) -> list:
                return []

        return register(StrategyConfig)(Probe)

    first, second = define(), define()  # a notebook cell run twice
    assert first is not second and isinstance(create("probe_strategy"), second)

    class Other:
        name: ClassVar[str] = "probe_strategy"

    with pytest.raises(ConfigError, match="already registered"):
        register(StrategyConfig)(Other)


def test_an_intent_that_would_pay_the_builder_nothing_is_not_proposed() -> None:
    cheap = v2("1", TKA, WETH, 210_000 * E18, 100 * E18)
    dear = v2("2", TKA, WETH, 200_000 * E18, 100 * E18)
    free = {"bid_bps": 0, "min_net_profit": 0}
    assert create("cyclic_arb", free).on_block(context([cheap, dear])) == []
    tipped = create("cyclic_arb", {**free, "priority_fee": 1}).on_block(context([cheap, dear]))
    assert len(tipped) == 1 and tipped[0].bid_bps == 0
