"""Traders' sizing with the exact AMM math, trade simulation (reverts leave no trace), calldata,
and noise orders (deterministic, heavy-tailed, within the slot)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from devnet.agents import Routes, TradingSlot, amount_to_price, noise_orders, pool_tick
from devnet.config import NoiseParams
from devnet.keys import stream
from devnet.prices import ReferencePrices
from devnet.spec import PoolInfo, initial_tick, units
from devnet.trades import PoolState, Trade, TradeHop, calldata, simulate
from workbench.chain.abi import selector
from workbench.chain.market_spec import DeployedMarket
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.market.uniswap_v3 import TickInfo, UniswapV3State
from workbench.market.uniswap_v3.tick_math import get_sqrt_ratio_at_tick

WETH_ADDR, USDC_ADDR = "0x" + "11" * 20, "0x" + "ee" * 20  # WETH sorts first: token0
V2 = PoolInfo("0x" + "a2" * 20, "uniswap", "WETH", "USDC", 3000, WETH_ADDR, USDC_ADDR)
V3 = PoolInfo("0x" + "a3" * 20, "v3", "USDC", "WETH", 500, USDC_ADDR, WETH_ADDR)
FULL = 887270


def states() -> dict[str, PoolState]:
    tick = initial_tick("WETH", "USDC")  # USDC per WETH, token1 per token0
    liquidity = 10**16
    v3 = UniswapV3State(
        address=V3.address,
        token0=WETH_ADDR,
        token1=USDC_ADDR,
        fee=500,
        tick_spacing=10,
        sqrt_price_x96=get_sqrt_ratio_at_tick(tick),
        tick=tick,
        liquidity=liquidity,
        ticks=MappingProxyType(
            {-FULL: TickInfo(liquidity, liquidity), FULL: TickInfo(liquidity, -liquidity)}
        ),
    )
    v2 = UniswapV2Pool(
        address=V2.address,
        token0=WETH_ADDR,
        token1=USDC_ADDR,
        reserve0=units("WETH", 3_000_000),
        reserve1=units("USDC", 3_000_000),
    )
    return {V2.address: v2, V3.address: v3}


@pytest.mark.parametrize("pool", [V2, V3])
@pytest.mark.parametrize("move", [-300, 250])
def test_amount_to_price_moves_the_pool_to_the_target(pool: PoolInfo, move: int) -> None:
    s = states()
    target = pool_tick(pool, s[pool.address]) + move
    sell = pool.symbol_a if move < 0 else pool.symbol_b  # selling a lowers b per a
    amount = amount_to_price(pool, s[pool.address], sell, target, cap=10**30)
    trade = Trade(
        hops=(TradeHop(pool, sell, pool.other(sell)),), amount_in=amount, min_out=1, via="router02"
    )
    assert simulate(trade, s) is not None
    assert abs(pool_tick(pool, s[pool.address]) - target) <= 3


def test_a_reverting_trade_leaves_the_pools_unchanged() -> None:
    s = states()
    hops = (TradeHop(V2, "WETH", "USDC"), TradeHop(V3, "USDC", "WETH"))
    before = dict(s)
    assert simulate(Trade(hops=hops, amount_in=10**18, min_out=10**18, via="executor"), s) is None
    assert s == before
    out = simulate(Trade(hops=hops, amount_in=10**18, min_out=1, via="executor"), s)
    assert out is not None and out < 10**18 and s != before


def test_calldata_targets_the_right_contract() -> None:
    market = DeployedMarket(
        chain_id=1,
        deployer="0x" + "01" * 20,
        weth=WETH_ADDR,
        tokens={"USDC": USDC_ADDR},
        v2_factories={},
        v2_routers={"uniswap": "0x" + "02" * 20},
        v2_pairs={},
        v3_factory="0x" + "03" * 20,
        v3_swap_router="0x" + "04" * 20,
    )
    executor = "0x" + "05" * 20
    cases = [
        (
            "router02",
            V2,
            "0x" + "02" * 20,
            selector("UniswapV2Router02", "swapExactTokensForTokens"),
        ),
        ("swaprouter", V3, "0x" + "04" * 20, selector("SwapRouter", "exactInput")),
        ("executor", V2, executor, selector("Executor", "execute")),
    ]
    for via, pool, to, sel in cases:
        trade = Trade(hops=(TradeHop(pool, "WETH", "USDC"),), amount_in=10**18, min_out=1, via=via)  # type: ignore[arg-type]
        got_to, data = calldata(trade, market, recipient=executor, deadline=1, executor=executor)
        assert (got_to, data[:4]) == (to, sel)


def test_noise_orders_are_deterministic_heavy_tailed_and_inside_the_slot() -> None:
    params = NoiseParams()
    slot = TradingSlot(
        number=10,
        start_ms=1_000_000,
        length_ms=12_000,
        base_fee=10**9,
        reference=ReferencePrices.initial(),
        states=states(),
    )
    routes = Routes([V2, V3])
    draws = [noise_orders(params, slot, routes, stream(1, "noise", i)) for i in range(10_000)]
    assert draws[:50] == [
        noise_orders(params, slot, routes, stream(1, "noise", i)) for i in range(50)
    ]
    orders = [o for d in draws for o in d]
    assert len(orders) > 1000
    assert all(slot.start_ms <= seen < slot.start_ms + slot.length_ms for seen, _, _ in orders)
    weth = sorted(t.amount_in for _, t, _ in orders if t.hops[0].token_in == "WETH")
    median, top = weth[len(weth) // 2], weth[-1]
    assert top > 10 * median  # Pareto(2): a heavy right tail
    assert top <= units("WETH", params.size_usd_cap) * 10_001 // 10_000
