"""Revert risk of an intent's fixed trade over scenarios of what lands before it, on a
hand-built 2-hop V2 cycle."""

from __future__ import annotations

from workbench.execution.slippage import RevertRisk, revert_risk, would_revert
from workbench.market.graph import Cycle, find_cycles
from workbench.market.pool import Pool
from workbench.market.sizing import hop_outputs, optimal_input, simulate
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.strategy.intents import ArbIntent
from workbench.strategy.models import slippage_guards

WETH, TKA = "0x" + "ee" * 20, "0x" + "aa" * 20
E18 = 10**18
GAS, BASE_FEE = 200_000, 10**9

CHEAP = UniswapV2Pool(  # 2100 TKA per WETH: the cycle buys TKA here
    address="0x" + "1" * 40, token0=TKA, token1=WETH, reserve0=210_000 * E18, reserve1=100 * E18
)
DEAR = UniswapV2Pool(  # 2000 TKA per WETH: and sells it here
    address="0x" + "2" * 40, token0=TKA, token1=WETH, reserve0=200_000 * E18, reserve1=100 * E18
)


def cycle() -> Cycle:
    return next(c for c in find_cycles([CHEAP, DEAR], WETH) if c.hops[0].pool is CHEAP)


def intent(tolerance_bps: int, *, hop_minimums: bool = True) -> ArbIntent:
    route = cycle()
    sized = optimal_input(route)
    assert sized is not None
    guards = slippage_guards(route, sized.amount_in, sized.profit, GAS * BASE_FEE, 0, tolerance_bps)
    return ArbIntent(
        strategy="cyclic_arb",
        cycle=route,
        amount_in=sized.amount_in,
        expected_profit=sized.profit,
        min_profit=guards.min_profit,
        gas_estimate=GAS,
        bid_bps=0,
        hop_min_outs=guards.hop_min_outs if hop_minimums else (),
    )


def after_swap(pool: UniswapV2Pool, token_in: str, amount: int) -> UniswapV2Pool:
    after = pool.swap_exact_in(token_in, amount).pool_after
    assert isinstance(after, UniswapV2Pool)
    return after


def profit_on(i: ArbIntent, pools: dict[str, Pool]) -> int:
    return simulate(i.cycle.with_pools(pools), i.amount_in)[1]


def test_nothing_pending_means_no_revert_risk() -> None:
    risk = revert_risk(intent(100), [])
    assert risk == RevertRisk(scenarios=0, reverts=0, gone=0)
    assert risk.p_revert == 0.0


def test_unchanged_pools_pass_every_guard() -> None:
    i = intent(0)  # no tolerance at all: the exact expected trade must still pass
    assert would_revert(i, {}) == (False, False)
    assert would_revert(i, {CHEAP.address: CHEAP, DEAR.address: DEAR}) == (False, False)
    assert would_revert(intent(10_000), {}) == (False, False)


def test_a_swap_against_us_in_the_first_pool_reverts_and_may_leave_nothing() -> None:
    i = intent(100)  # keep 99% of the expected profit
    # someone else buys TKA with WETH in the cheap pool first: it gets dearer for us
    small = {CHEAP.address: after_swap(CHEAP, WETH, E18 // 10)}
    big = {CHEAP.address: after_swap(CHEAP, WETH, 5 * E18)}
    assert 0 < profit_on(i, small) < i.min_profit
    assert profit_on(i, big) <= 0
    assert would_revert(i, small) == (True, False)  # smaller, but something is left
    assert would_revert(i, big) == (True, True)  # the opportunity is gone
    risk = revert_risk(i, [small, big])
    assert (risk.scenarios, risk.reverts, risk.gone) == (2, 2, 1)
    assert risk.p_revert == 1.0


def test_a_swap_in_our_favour_does_not_revert() -> None:
    i = intent(0)
    # someone sells TKA into the cheap pool: even more TKA per WETH for us
    better = {CHEAP.address: after_swap(CHEAP, TKA, 2_000 * E18)}
    assert profit_on(i, better) > i.expected_profit
    assert would_revert(i, better) == (False, False)


def test_the_share_of_reverting_scenarios_is_the_probability() -> None:
    i = intent(100)
    scenarios = [
        {},  # what we expected
        {CHEAP.address: after_swap(CHEAP, TKA, 2_000 * E18)},  # in our favour
        {CHEAP.address: after_swap(CHEAP, WETH, E18 // 10)},  # smaller
        {CHEAP.address: after_swap(CHEAP, WETH, 5 * E18)},  # gone
    ]
    risk = revert_risk(i, scenarios)
    assert risk == RevertRisk(scenarios=4, reverts=2, gone=1)
    assert risk.p_revert == 0.5


def test_a_hop_minimum_reverts_even_when_the_profit_would_pass() -> None:
    guarded = intent(100)
    profit_only = intent(100, hop_minimums=False)
    assert guarded.min_profit == profit_only.min_profit and len(guarded.hop_min_outs) == 2
    # the first pool gives ~2% less TKA, but the second pays far more WETH for it
    moved = {
        CHEAP.address: after_swap(CHEAP, WETH, 2 * E18),
        DEAR.address: after_swap(DEAR, WETH, 10 * E18),
    }
    outs = hop_outputs(guarded.cycle.with_pools(moved), guarded.amount_in)
    assert outs[0] < guarded.hop_min_outs[0]  # the first hop comes up short
    assert profit_on(guarded, moved) >= guarded.min_profit  # the profit alone would pass
    assert would_revert(profit_only, moved) == (False, False)
    assert would_revert(guarded, moved) == (True, False)
    assert revert_risk(guarded, [moved]).p_revert == 1.0
    assert revert_risk(profit_only, [moved]).p_revert == 0.0


def test_pools_off_the_route_change_nothing() -> None:
    i = intent(0)
    other = UniswapV2Pool(
        address="0x" + "3" * 40, token0=TKA, token1=WETH, reserve0=1, reserve1=10**30
    )
    assert would_revert(i, {other.address: other}) == (False, False)
