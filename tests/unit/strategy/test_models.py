"""The bid and slippage models: ConstantShare, ExpectedNetBid (against a brute-force argmax over
every integer bps), break_even and slippage_guards, on hand-made win models and V2 cycles."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.market.graph import Cycle, find_cycles
from workbench.market.sizing import hop_outputs, optimal_input
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.scoring.inclusion import InclusionModel
from workbench.strategy.models import (
    BPS,
    ConstantShare,
    ExpectedNetBid,
    Guards,
    WinModel,
    break_even,
    slippage_guards,
)

WETH, TKA = "0x" + "ee" * 20, "0x" + "aa" * 20
E18 = 10**18


@dataclass(frozen=True)
class StepModel:
    """Competitors pay ``shares_bps`` of the value (each equally likely) and take the
    opportunity with probability fullness / 10000; a competitor paying at least as much as
    we do beats us. P(win) is a step function of what we pay."""

    shares_bps: tuple[int, ...]

    def p_win(self, paid: int, value: int, fullness_bps: int) -> float:
        if paid <= 0:
            return 0.0
        outpaid = sum(s * value // BPS >= paid for s in self.shares_bps) / len(self.shares_bps)
        return 1.0 - fullness_bps / BPS * outpaid

    def candidate_bids(self, value: int) -> list[int]:
        return sorted({1} | {s * value // BPS + 1 for s in self.shares_bps})


def brute_force_bps(model: WinModel, value: int, gas: int, fullness: int, max_bps: int) -> int:
    """The smallest bps in [1, max_bps] with the largest P(win) * net, or 0 if none is > 0."""
    best_bps, best = 0, 0.0
    for bps in range(1, max_bps + 1):
        paid = value * bps // BPS
        expected = model.p_win(paid, value, fullness) * (value - paid - gas)
        if expected > best:
            best_bps, best = bps, expected
    return best_bps


COMPETITORS = StepModel((3_000, 5_000))  # half pay 30%, half pay 50%


def test_step_model_is_a_win_model() -> None:
    assert isinstance(COMPETITORS, WinModel)
    assert isinstance(InclusionModel((0.0, 0.0, 0.0), (3_000,)), WinModel)


def test_constant_share_ignores_value_gas_and_fullness() -> None:
    policy = ConstantShare(1_234)
    assert {
        policy.bid_bps(value, gas, fullness)
        for value, gas, fullness in [(E18, 0, 0), (1, 10**20, 10_000), (0, 5, 5_000)]
    } == {1_234}


def test_highly_contested_bids_just_above_the_largest_competitor_share() -> None:
    value, gas = E18, 10**15
    bps = ExpectedNetBid(COMPETITORS).bid_bps(value, gas, fullness_bps=9_000)
    # above 50%: wins surely, nets ~0.499 ETH; above 30%: 0.55 * ~0.7; 1 wei: 0.1 * ~1
    assert bps == 5_001
    assert value * bps // BPS > 5_000 * value // BPS  # strictly outbids the 50% competitor
    assert bps == brute_force_bps(COMPETITORS, value, gas, 9_000, 9_900)


def test_rarely_contested_bids_the_smallest_positive_amount() -> None:
    value, gas = E18, 10**15
    bps = ExpectedNetBid(COMPETITORS).bid_bps(value, gas, fullness_bps=1_000)
    assert bps == 1 and value * bps // BPS > 0  # pays the builder something, as little as can be
    assert bps == brute_force_bps(COMPETITORS, value, gas, 1_000, 9_900)


def test_bids_nothing_when_no_bid_is_profitable() -> None:
    policy = ExpectedNetBid(COMPETITORS)
    assert policy.bid_bps(E18, E18, 9_000) == 0  # gas eats everything
    assert policy.bid_bps(E18, 2 * E18, 1_000) == 0
    assert policy.bid_bps(0, 0, 9_000) == 0
    assert policy.bid_bps(-5, 0, 9_000) == 0
    # no positive bid is allowed
    assert ExpectedNetBid(COMPETITORS, max_bps=0).bid_bps(E18, 0, 9_000) == 0


def test_max_bps_caps_the_bid() -> None:
    value, gas = E18, 10**15
    # 50% + 1 is out of reach: above 30% (0.55 * 0.7) beats 1 wei (0.1 * 1)
    assert ExpectedNetBid(COMPETITORS, max_bps=5_000).bid_bps(value, gas, 9_000) == 3_001
    assert brute_force_bps(COMPETITORS, value, gas, 9_000, 5_000) == 3_001
    assert ExpectedNetBid(COMPETITORS, max_bps=3_000).bid_bps(value, gas, 9_000) == 1


def test_margin_is_added_above_each_payment_and_respects_max_bps() -> None:
    value, gas = E18, 10**15
    assert ExpectedNetBid(COMPETITORS, margin_bps=200).bid_bps(value, gas, 9_000) == 5_201
    assert ExpectedNetBid(COMPETITORS, margin_bps=200).bid_bps(value, gas, 1_000) == 201
    capped = ExpectedNetBid(COMPETITORS, max_bps=5_100, margin_bps=200)
    assert capped.bid_bps(value, gas, 9_000) == 3_201


@settings(max_examples=100, deadline=None)
@given(
    shares=st.lists(st.integers(0, 9_999), min_size=1, max_size=3).map(tuple),
    value=st.one_of(st.integers(1, 10**6), st.integers(10**15, 10**20)),
    gas_share=st.integers(0, 11_000),
    fullness=st.integers(0, 10_000),
    max_bps=st.integers(1, 9_999),
)
def test_expected_net_bid_is_the_argmax_over_every_bps(
    shares: tuple[int, ...], value: int, gas_share: int, fullness: int, max_bps: int
) -> None:
    model = StepModel(shares)
    gas = value * gas_share // BPS
    got = ExpectedNetBid(model, max_bps=max_bps).bid_bps(value, gas, fullness)
    assert got == brute_force_bps(model, value, gas, fullness, max_bps)
    assert 0 <= got <= max_bps


def test_break_even_covers_bid_and_gas() -> None:
    assert break_even(0, 5_000) == 0
    assert break_even(1_000, 0) == 1_000
    assert break_even(1_000, 5_000) == 1_999  # the bid rounds down: 1999 - 999 = 1000
    assert break_even(1_001, 5_000) == 2_001
    assert break_even(1, 9_999) == 1  # a bid of floor(0.9999) = 0


@settings(max_examples=200, deadline=None)
@given(gas=st.integers(0, 10**20), bid_bps=st.integers(0, 9_999))
def test_break_even_pays_for_the_executors_bid_and_gas(gas: int, bid_bps: int) -> None:
    gross = break_even(gas, bid_bps)
    assert gross - gross * bid_bps // BPS - gas >= 0  # the Executor's floor bid
    if gross > 0:  # and it is the least such gross
        below = gross - 1
        assert below - below * bid_bps // BPS - gas < 0


def test_break_even_is_the_least_covering_gross() -> None:
    gas, bid_bps = 1, 5_000
    assert 1 - 1 * bid_bps // BPS - gas >= 0
    assert break_even(gas, bid_bps) == 1


def v2(addr: str, t0: str, t1: str, r0: int, r1: int, fee: int = 3000) -> UniswapV2Pool:
    return UniswapV2Pool(
        address="0x" + addr * 40, token0=t0, token1=t1, reserve0=r0, reserve1=r1, fee=fee
    )


def profitable_cycle() -> tuple[Cycle, int, int]:
    cheap = v2("1", TKA, WETH, 210_000 * E18, 100 * E18)  # 2100 TKA per WETH
    dear = v2("2", TKA, WETH, 200_000 * E18, 100 * E18)  # 2000 TKA per WETH
    cycle = next(c for c in find_cycles([cheap, dear], WETH) if c.hops[0].pool is cheap)
    sized = optimal_input(cycle)
    assert sized is not None and sized.profit > 0
    return cycle, sized.amount_in, sized.profit


def test_full_tolerance_guards_break_even_only() -> None:
    cycle, amount_in, profit = profitable_cycle()
    gas_cost = 200_000 * 10**9
    guards = slippage_guards(cycle, amount_in, profit, gas_cost, 5_000, 10_000)
    assert guards == Guards(break_even(gas_cost, 5_000), ())


@pytest.mark.parametrize("tolerance", [0, 1, 50, 500, 9_999])
def test_tolerance_scales_the_expected_profit_and_every_hop_output(tolerance: int) -> None:
    cycle, amount_in, profit = profitable_cycle()
    gas_cost, bid = 200_000 * 10**9, 3_000
    guards = slippage_guards(cycle, amount_in, profit, gas_cost, bid, tolerance)
    keep = BPS - tolerance
    outs = hop_outputs(cycle, amount_in)
    assert guards.min_profit == max(break_even(gas_cost, bid), profit * keep // BPS)
    assert guards.hop_min_outs == tuple(o * keep // BPS for o in outs)
    assert len(guards.hop_min_outs) == len(cycle.hops) == 2
    assert guards.min_profit <= profit  # the expected trade itself passes its own guards
    assert all(m <= o for m, o in zip(guards.hop_min_outs, outs, strict=True))
    if tolerance == 0:
        assert guards.min_profit == profit and guards.hop_min_outs == tuple(outs)


def test_break_even_is_the_floor_when_tolerance_would_go_below_it() -> None:
    cycle, amount_in, profit = profitable_cycle()
    gas_cost = profit // 2  # costs eat half the expected profit
    guards = slippage_guards(cycle, amount_in, profit, gas_cost, 0, 9_000)  # keep only 10%
    assert profit * 1_000 // BPS < break_even(gas_cost, 0)
    assert guards.min_profit == break_even(gas_cost, 0) == gas_cost


@settings(max_examples=50, deadline=None)
@given(
    tolerance=st.integers(0, 10_000),
    gas_cost=st.integers(0, 10**18),
    bid_bps=st.integers(0, 9_999),
)
def test_guards_never_fall_below_break_even(tolerance: int, gas_cost: int, bid_bps: int) -> None:
    cycle, amount_in, profit = profitable_cycle()
    guards = slippage_guards(cycle, amount_in, profit, gas_cost, bid_bps, tolerance)
    assert guards.min_profit >= break_even(gas_cost, bid_bps)
    assert guards.min_profit >= profit * (BPS - tolerance) // BPS
    assert len(guards.hop_min_outs) == (0 if tolerance == BPS else 2)
