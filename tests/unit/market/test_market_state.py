"""MarketState: pool transitions from logs, in chain order, with per-log history."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import MarketError
from workbench.market.market_state import MarketState
from workbench.market.pool import UNKNOWN_TOKEN
from workbench.market.uniswap_v2 import SYNC_V2, UniswapV2Pool, V2Swap, V2Sync
from workbench.market.uniswap_v3 import (
    TickInfo,
    UniswapV3State,
    V3Burn,
    V3Initialize,
    V3Mint,
    V3Swap,
    modify_position,
)
from workbench.types import address

PAIR = address("0x" + "11" * 20)
POOL = address("0x" + "22" * 20)
OTHER = address("0x" + "33" * 20)
WHO = address("0x" + "44" * 20)
Q96 = 2**96


def v2_pair(r0: int = 1000, r1: int = 2000) -> UniswapV2Pool:
    return UniswapV2Pool(address=PAIR, token0="A", token1="B", reserve0=r0, reserve1=r1)


def v3_pool(tick: int = 0, liquidity: int = 0) -> UniswapV3State:
    return UniswapV3State(
        address=POOL,
        token0="A",
        token1="B",
        fee=3000,
        tick_spacing=10,
        sqrt_price_x96=Q96,
        tick=tick,
        liquidity=liquidity,
    )


def v2_of(m: MarketState, pool: str) -> UniswapV2Pool:
    state = m.state(pool)
    assert isinstance(state, UniswapV2Pool)
    return state


def v3_of(m: MarketState, pool: str) -> UniswapV3State:
    state = m.state(pool)
    assert isinstance(state, UniswapV3State)
    return state


def at(block: int, index: int, pool: str = PAIR) -> dict[str, Any]:
    return {"address": pool, "block_number": block, "transaction_index": 0, "log_index": index}


def sync(block: int, index: int, r0: int, r1: int, pool: str = PAIR) -> V2Sync:
    return V2Sync(**at(block, index, pool), reserve0=r0, reserve1=r1)


def mint(block: int, index: int, lower: int, upper: int, amount: int) -> V3Mint:
    return V3Mint(
        **at(block, index, POOL),
        sender=WHO,
        owner=WHO,
        tick_lower=lower,
        tick_upper=upper,
        amount=amount,
        amount0=0,
        amount1=0,
    )


def burn(block: int, index: int, lower: int, upper: int, amount: int) -> V3Burn:
    return V3Burn(
        **at(block, index, POOL),
        owner=WHO,
        tick_lower=lower,
        tick_upper=upper,
        amount=amount,
        amount0=0,
        amount1=0,
    )


def v3_swap(
    block: int, index: int, tick: int, liquidity: int, sqrt: int = Q96, pool: str = POOL
) -> V3Swap:
    return V3Swap(
        **at(block, index, pool),
        sender=WHO,
        recipient=WHO,
        amount0=1,
        amount1=-1,
        sqrt_price_x96=sqrt,
        liquidity=liquidity,
        tick=tick,
    )


def test_v2_sync_sets_reserves_and_history_answers_per_log() -> None:
    m = MarketState([v2_pair()])
    m.apply(sync(10, 3, 1100, 1820))
    swap = V2Swap(
        **at(10, 4),
        sender=WHO,
        to=WHO,
        amount0_in=100,
        amount1_in=0,
        amount0_out=0,
        amount1_out=180,
    )
    assert m.apply(swap) == swap  # informational: the Sync before it already set the state
    m.apply(sync(12, 0, 1000, 2001))
    assert m.state(PAIR) == v2_pair(1000, 2001)
    assert m.state_before(PAIR, 10, 3) == v2_pair()
    assert m.state_after(PAIR, 10, 3) == v2_pair(1100, 1820)
    assert m.state_after(PAIR, 10, 4) == v2_pair(1100, 1820)
    assert m.state_after(PAIR, 10) == v2_pair(1100, 1820)  # the end of block 10
    assert m.state_before(PAIR, 12) == v2_pair(1100, 1820)  # the start of block 12
    assert m.state_before(PAIR, 9) == v2_pair()
    assert [pos for pos, _ in m.history(PAIR)] == [(-1, -1), (10, 3), (12, 0)]
    assert m.pools == {PAIR.lower(): v2_pair(1000, 2001)}
    assert m.last_position == (12, 0)


def test_logs_must_come_in_chain_order() -> None:
    m = MarketState([v2_pair()])
    m.apply(sync(10, 3, 1, 1))
    for late in (sync(10, 3, 2, 2), sync(10, 2, 2, 2), sync(9, 50, 2, 2)):
        with pytest.raises(MarketError, match="chain order"):
            m.apply(late)
    assert v2_of(m, PAIR).reserve0 == 1


def test_raw_logs_removed_and_look_alikes() -> None:
    m = MarketState([v2_pair()])
    raw = {
        "address": PAIR.lower(),
        "topics": [SYNC_V2],
        "data": "0x" + f"{7:064x}{8:064x}",
        "blockNumber": "0x5",
        "transactionIndex": "0x0",
        "logIndex": "0x1",
    }
    assert m.apply(raw) == sync(5, 1, 7, 8)
    with pytest.raises(MarketError, match="reorg"):
        m.apply(raw | {"removed": True, "logIndex": "0x2"})
    look_alike = raw | {"topics": [SYNC_V2, "0x" + "00" * 32], "logIndex": "0x3"}
    assert m.apply(look_alike) is None  # skipped, but kept for inspection
    assert [e.position for e in m.rejected] == [(5, 3)]
    assert m.apply(raw | {"topics": ["0x" + "ab" * 32], "logIndex": "0x4"}) is None
    assert v2_of(m, PAIR).reserve1 == 8


def test_unknown_pools_are_recorded_or_ignored() -> None:
    recorded = MarketState()
    recorded.apply_all([sync(1, 0, 5, 6, OTHER), v3_swap(1, 1, 0, 0)])
    assert recorded.unknown == {OTHER, POOL}
    assert recorded.state(OTHER) == UniswapV2Pool(
        address=OTHER, token0=UNKNOWN_TOKEN, token1=UNKNOWN_TOKEN, reserve0=5, reserve1=6
    )
    with pytest.raises(MarketError, match=r"not tracked.*\.unknown"):
        recorded.state(POOL)  # V3 logs alone do not make a state
    recorded.add(v3_pool(tick=5))
    assert recorded.unknown == {OTHER}
    assert recorded.history(POOL) == [((1, 1), v3_pool(tick=5))]
    with pytest.raises(MarketError, match="no state before log 0 of block 1"):
        recorded.state_before(POOL, 1)

    ignored = MarketState(unknown_pools="ignore")
    ignored.apply_all([sync(1, 0, 5, 6, OTHER), v3_swap(1, 1, 0, 0)])
    assert ignored.unknown == set()
    assert OTHER not in ignored
    with pytest.raises(MarketError, match="'record' or 'ignore'"):
        MarketState(unknown_pools="keep")  # type: ignore[arg-type]


def test_event_of_the_other_protocol_is_an_error() -> None:
    m = MarketState([v2_pair(), v3_pool()])
    with pytest.raises(MarketError, match="UniswapV2Pool but emitted V3Swap"):
        m.apply(v3_swap(1, 0, 0, 0, pool=PAIR))
    with pytest.raises(MarketError, match="UniswapV3State but emitted V2Sync"):
        m.apply(sync(1, 1, 1, 1, POOL))
    assert m.last_position == (-1, -1)  # a refused log is not applied


def test_v3_initialize_and_swap_set_price_tick_liquidity() -> None:
    m = MarketState([v3_pool()])
    m.apply(V3Initialize(**at(1, 0, POOL), sqrt_price_x96=2 * Q96, tick=13863))
    assert (v3_of(m, POOL).sqrt_price_x96, v3_of(m, POOL).tick) == (2 * Q96, 13863)
    m.apply(v3_swap(1, 1, -7, 55, 3 * Q96))
    after = v3_of(m, POOL)
    assert (after.sqrt_price_x96, after.tick, after.liquidity) == (3 * Q96, -7, 55)


def test_mint_and_burn_follow_tick_update() -> None:
    pool = v3_pool(tick=-10)
    # In range when lower <= tick < upper: the lower bound counts, the upper does not.
    assert modify_position(pool, -10, 20, 5).liquidity == 5
    assert modify_position(pool, -20, -10, 5).liquidity == 0
    assert modify_position(pool, -30, -20, 5).liquidity == 0
    assert modify_position(pool, 0, 10, 5).liquidity == 0

    m = MarketState([pool])
    m.apply_all([mint(1, 0, -20, 20, 100), mint(1, 1, 20, 40, 7), mint(1, 2, -20, 0, 3)])
    state = v3_of(m, POOL)
    assert dict(state.ticks) == {
        -20: TickInfo(103, 103),
        0: TickInfo(3, -3),
        20: TickInfo(107, -93),
        40: TickInfo(7, -7),
    }
    assert state.liquidity == 103
    assert state.index is not None and state.index.ticks == (-20, 0, 20, 40)
    m.apply(burn(2, 0, -20, 0, 0))  # a poke: no change, no history entry
    assert len(m.history(POOL)) == 4
    m.apply_all([burn(2, 1, -20, 0, 3), burn(2, 2, -20, 20, 40)])
    state = v3_of(m, POOL)
    assert dict(state.ticks) == {-20: TickInfo(60, 60), 20: TickInfo(67, -53), 40: TickInfo(7, -7)}
    assert state.liquidity == 60
    assert m.state_after(POOL, 1, 1).liquidity == 100  # type: ignore[union-attr]
    with pytest.raises(MarketError, match="gross liquidity -1"):
        m.apply(burn(3, 0, 20, 40, 8))
    # A state missing positions (logs applied from the middle of history) is caught.
    partial = v3_pool(tick=-10, liquidity=1).with_ticks(
        {-20: TickInfo(5, 5), 20: TickInfo(5, -5)}, 1
    )
    with pytest.raises(MarketError, match="negative in-range liquidity"):
        MarketState([partial]).apply(burn(1, 0, -20, 20, 2))


def test_forget_before_keeps_what_later_queries_need() -> None:
    m = MarketState([v2_pair()])
    m.apply_all([sync(1, 0, 1, 1), sync(2, 0, 2, 2), sync(2, 5, 3, 3), sync(4, 0, 4, 4)])
    m.forget_before(3)
    assert [pos for pos, _ in m.history(PAIR)] == [(2, 5), (4, 0)]
    assert m.state_before(PAIR, 3).reserve0 == 3  # type: ignore[union-attr]
    assert m.state_after(PAIR, 4).reserve0 == 4  # type: ignore[union-attr]
    with pytest.raises(MarketError, match="no state after log 0 of block 2"):
        m.state_after(PAIR, 2, 0)
    with pytest.raises(MarketError, match="no state after block 1: its first state is at log 5"):
        m.state_after(PAIR, 1)


@st.composite
def v3_histories(draw: st.DrawFn) -> list[tuple[str, int, int, int]]:
    """Mints, burns of live positions (part or all) and swaps to other ticks."""
    ops: list[tuple[str, int, int, int]] = []
    live: list[list[int]] = []
    for _ in range(draw(st.integers(1, 40))):
        choice = draw(st.sampled_from(["mint", "burn", "swap"] if live else ["mint", "swap"]))
        if choice == "mint":
            lower = 10 * draw(st.integers(-10, 9))
            upper = 10 * draw(st.integers(lower // 10 + 1, 10))
            amount = draw(st.integers(1, 10**6))
            live.append([lower, upper, amount])
            ops.append(("mint", lower, upper, amount))
        elif choice == "burn":
            pos = live[draw(st.integers(0, len(live) - 1))]
            amount = draw(st.sampled_from([pos[2], draw(st.integers(0, pos[2]))]))
            pos[2] -= amount
            ops.append(("burn", pos[0], pos[1], amount))
        else:
            ops.append(("swap", draw(st.integers(-110, 110)), 0, 0))
    return ops


@given(start_tick=st.integers(-110, 110), ops=v3_histories())
def test_v3_state_matches_its_positions(
    start_tick: int, ops: list[tuple[str, int, int, int]]
) -> None:
    """After every log: in-range liquidity and each tick's gross/net are sums over positions."""
    m = MarketState([v3_pool(tick=start_tick)])
    positions: dict[tuple[int, int], int] = defaultdict(int)
    tick = start_tick
    for i, (kind, a, b, amount) in enumerate(ops):
        if kind == "mint":
            positions[a, b] += amount
            m.apply(mint(1, i, a, b, amount))
        elif kind == "burn":
            positions[a, b] -= amount
            m.apply(burn(1, i, a, b, amount))
        else:
            tick = a
            in_range = sum(L for (lo, up), L in positions.items() if lo <= tick < up)
            m.apply(v3_swap(1, i, tick, in_range))
        expected: dict[int, TickInfo] = {}
        for (lo, up), liq in positions.items():
            for t, sign in ((lo, 1), (up, -1)):
                old = expected.get(t, TickInfo(0, 0))
                expected[t] = TickInfo(old.liquidity_gross + liq, old.liquidity_net + sign * liq)
        state = v3_of(m, POOL)
        assert dict(state.ticks) == {t: x for t, x in expected.items() if x.liquidity_gross}
        assert state.liquidity == sum(L for (lo, up), L in positions.items() if lo <= tick < up)
    assert isinstance(m.history(POOL)[0][1], UniswapV3State)
