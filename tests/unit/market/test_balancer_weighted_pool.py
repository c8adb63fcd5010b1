"""BalancerWeightedPool: values recorded from the real Vault, and swap properties."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import MarketError
from workbench.market.balancer import BalancerError, BalancerWeightedPool
from workbench.market.balancer.errors import BALANCE_TOTAL_OVERFLOW, MAX_IN_RATIO, MAX_OUT_RATIO
from workbench.market.pool import Pool

EXAMPLES = 2000 if os.environ.get("WORKBENCH_DEEP") == "1" else 150
E18 = 10**18
A, B, C = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20


def pool(**kw: object) -> BalancerWeightedPool:
    args: dict[str, object] = {
        "address": "0x" + "11" * 20,
        "tokens": (A, B),
        "balances": (1000 * E18, 2_000_000 * 10**6),
        "weights": (8 * E18 // 10, 2 * E18 // 10),
        "decimals": (18, 6),
        "swap_fee": 3 * 10**15,
        "legacy_pow": True,
    }
    args.update(kw)
    return BalancerWeightedPool(**args)  # type: ignore[arg-type]


# Recorded with queryBatchSwap from the mainnet Vault + V1 WeightedPool(2Tokens) bytecode
# (npm @balancer-labs/v2-deployments 1.1.1) on Anvil; the differential test re-proves them.
# By hand for the first: 9.97 in after the fee, 2e6 * (1 - (1000 / 1009.97)^4) = 77810.94.
RECORDED = [
    # (pool kwargs, exact in?, token in, token out, amount, expected in, expected out)
    ({}, True, A, B, 10 * E18, 10 * E18, 77810942311),
    ({}, False, B, A, E18, 8044172589, E18),
    ({}, True, B, A, 1000 * 10**6, 1000 * 10**6, 124586186024556000),
    ({}, False, A, B, 500 * 10**6, 62697861049576731, 500 * 10**6),
    (
        {"balances": (700 * E18, 500 * E18), "weights": (E18 // 2, E18 // 2), "decimals": (18, 18), "swap_fee": 10**15},
        True, B, A, E18, E18, 1395811169276782300,
    ),
    (
        {"balances": (700 * E18, 500 * E18), "weights": (E18 // 2, E18 // 2), "decimals": (18, 18), "swap_fee": 10**15},
        False, B, A, E18, 716023605871250751, E18,
    ),
    (
        THREE := {
            "tokens": (A, B, C),
            "balances": (10**6 * E18, 2 * 10**12, 10**12),
            "weights": (333333333333333333, 333333333333333334, 333333333333333333),
            "decimals": (18, 6, 6),
            "swap_fee": 4 * 10**14,
        },
        True, A, B, 1000 * E18, 1000 * E18, 1997203595,
    ),
    (THREE, False, B, C, 500 * 10**6, 1000900612, 500 * 10**6),
    (THREE, False, C, A, E18, 1000403, E18),
]  # fmt: skip


@pytest.mark.parametrize("kw,exact_in,t_in,t_out,amount,amount_in,amount_out", RECORDED)
def test_matches_values_recorded_from_the_vault(
    kw: dict[str, object],
    exact_in: bool,
    t_in: str,
    t_out: str,
    amount: int,
    amount_in: int,
    amount_out: int,
) -> None:
    p = pool(**kw)
    s = (
        p.swap_exact_in(t_in, amount, token_out=t_out)
        if exact_in
        else p.swap_exact_out(t_in, amount, token_out=t_out)
    )
    assert (s.amount_in, s.amount_out) == (amount_in, amount_out)
    i, j = p.index(t_in), p.index(t_out)
    after = s.pool_after
    assert isinstance(after, BalancerWeightedPool)
    assert after.balances[i] == p.balances[i] + amount_in
    assert after.balances[j] == p.balances[j] - amount_out


def test_modern_pools_use_exact_integer_powers() -> None:
    # 50/50: the exponent is exactly 1. V1 pools still go through pow and its error bound.
    old, new = pool(**RECORDED[4][0]), pool(**RECORDED[4][0], legacy_pow=False)
    assert new.swap_exact_in(B, E18).amount_out == 1395811169283770400
    assert old.swap_exact_in(B, E18).amount_out == 1395811169276782300
    assert isinstance(new, Pool)


def test_api_errors() -> None:
    p3 = pool(**RECORDED[-1][0])
    with pytest.raises(MarketError, match="token_out"):
        p3.swap_exact_in(A, E18)
    with pytest.raises(MarketError, match="V3"):
        pool().swap_exact_in(A, E18, 2**96)
    with pytest.raises(MarketError, match="not in this pool"):
        pool().swap_exact_in(C, E18)
    with pytest.raises(MarketError, match="same token"):
        p3.swap_exact_in(A, E18, token_out=A)
    with pytest.raises(BalancerError) as e:
        pool().swap_exact_in(A, 400 * E18)  # > 30% of the balance in
    assert e.value.code == MAX_IN_RATIO
    with pytest.raises(BalancerError) as e:
        pool().swap_exact_out(A, 700_000 * 10**6)
    assert e.value.code == MAX_OUT_RATIO
    for beyond in (2_000_000 * 10**6, 3_000_000 * 10**6):  # the whole balance, or more
        with pytest.raises(BalancerError) as e:  # the Vault's code too (BAL#305, no underflow)
            pool().swap_exact_out(A, beyond)
        assert e.value.code == MAX_OUT_RATIO
    with pytest.raises(MarketError, match="normalized"):
        pool(weights=(E18 // 2, E18 // 3))
    with pytest.raises(MarketError, match="normalized"):
        pool(weights=(E18 - 10**15, 10**15))


@st.composite
def pools(draw: st.DrawFn) -> BalancerWeightedPool:
    w = draw(st.integers(10**16, E18 - 10**16))
    decimals = (draw(st.sampled_from([6, 8, 18])), draw(st.sampled_from([6, 18])))
    balances = tuple(draw(st.integers(10**3, 10**12)) * 10 ** (d - 3) + 7 for d in decimals)
    return pool(
        weights=(w, E18 - w),
        decimals=decimals,
        balances=balances,
        swap_fee=draw(st.integers(10**12, 10**17)),
        legacy_pow=draw(st.booleans()),
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(p=pools(), ppm=st.integers(1, 300_000), more=st.integers(1, 10**6))
def test_exact_in_monotone_and_round_trip_loses(
    p: BalancerWeightedPool, ppm: int, more: int
) -> None:
    amount = max(1, p.balances[0] * ppm // 1_000_000)
    s = p.swap_exact_in(A, amount)
    try:
        s2 = p.swap_exact_in(A, amount + more)
    except BalancerError as e:
        assert e.code == MAX_IN_RATIO
    else:
        assert s2.amount_out >= s.amount_out
    if s.amount_out == 0:
        return
    try:
        back = s.pool_after.swap_exact_in(B, s.amount_out)
    except BalancerError as e:  # a 30%+ move leaves the way back beyond MAX_IN_RATIO
        assert e.code == MAX_IN_RATIO
        return
    assert back.amount_out < amount  # fees and rounding are the pool's


@settings(max_examples=EXAMPLES, deadline=None)
@given(p=pools(), ppm=st.integers(1, 290_000))
def test_exact_out_agrees_with_exact_in(p: BalancerWeightedPool, ppm: int) -> None:
    """Both directions round for the pool, and pow's error bound grows with the weight ratio:
    they agree to a relative 1e-6 (and to one unit of the token in), not to the wei."""
    want = max(1, p.balances[1] * ppm // 1_000_000)
    try:
        s = p.swap_exact_out(A, want)
    except BalancerError as e:  # 99/1 weights: the price of 29% of the 99% side is huge
        assert e.code == BALANCE_TOTAL_OVERFLOW
        return
    assert isinstance(s.pool_after, BalancerWeightedPool)
    assert s.pool_after.balances == (p.balances[0] + s.amount_in, p.balances[1] - want)
    try:
        got = p.swap_exact_in(A, s.amount_in).amount_out
    except BalancerError as e:
        assert e.code == MAX_IN_RATIO
        return
    slack = want // 10**6 + 1
    assert got >= want - slack
    assert p.swap_exact_in(A, s.amount_in - 1).amount_out <= want + slack
