"""V3 math on its own: TickMath bounds and inverses, the bitmap walk against a literal port
of TickBitmap's word/bit logic, and swap consistency. (Bytecode equality is proven in
tests/integration/market/test_uniswap_v3_bytecode.py.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.market.uniswap_v3 import TickIndex, TickInfo, UniswapV3State
from workbench.market.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

ticks = st.integers(min_value=MIN_TICK, max_value=MAX_TICK - 1)


def test_tick_math_bounds() -> None:
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    assert get_sqrt_ratio_at_tick(0) == 1 << 96
    assert get_tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert get_tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1


@settings(max_examples=500)
@given(tick=ticks, offset=st.integers(min_value=0, max_value=2**160))
def test_tick_at_sqrt_ratio_is_the_greatest_tick_below(tick: int, offset: int) -> None:
    low, high = get_sqrt_ratio_at_tick(tick), get_sqrt_ratio_at_tick(tick + 1)
    assert low < high
    price = low + offset % (high - low)
    assert get_tick_at_sqrt_ratio(price) == tick


def bitmap_next(initialized: set[int], tick: int, spacing: int, lte: bool) -> tuple[int, bool]:
    """TickBitmap.nextInitializedTickWithinOneWord, word by word and bit by bit."""
    words: dict[int, int] = {}
    for t in initialized:
        c = t // spacing
        words[c >> 8] = words.get(c >> 8, 0) | (1 << (c % 256))
    compressed = tick // spacing
    if lte:
        word_pos, bit_pos = compressed >> 8, compressed % 256
        masked = words.get(word_pos, 0) & ((1 << bit_pos) - 1 + (1 << bit_pos))
        if masked:
            return (compressed - (bit_pos - (masked.bit_length() - 1))) * spacing, True
        return (compressed - bit_pos) * spacing, False
    word_pos, bit_pos = (compressed + 1) >> 8, (compressed + 1) % 256
    masked = words.get(word_pos, 0) & ~((1 << bit_pos) - 1) & (2**256 - 1)
    if masked:
        lsb = (masked & -masked).bit_length() - 1
        return (compressed + 1 + (lsb - bit_pos)) * spacing, True
    return (compressed + 1 + (255 - bit_pos)) * spacing, False


@settings(max_examples=500)
@given(
    spacing=st.sampled_from([1, 10, 60, 200]),
    compressed=st.sets(st.integers(min_value=-3000, max_value=3000), max_size=30),
    tick=st.integers(min_value=-700_000, max_value=700_000),
    lte=st.booleans(),
)
def test_bitmap_walk_equals_the_contract(
    spacing: int, compressed: set[int], tick: int, lte: bool
) -> None:
    initialized = {c * spacing for c in compressed}
    tick = tick % (4000 * spacing) - 2000 * spacing  # near the initialized ticks
    index = TickIndex.of({t: TickInfo(1, 0) for t in initialized})
    assert index.next_initialized_within_one_word(tick, spacing, lte) == bitmap_next(
        initialized, tick, spacing, lte
    )


@settings(max_examples=200)
@given(
    amount=st.integers(min_value=1, max_value=10**24),
    zfo=st.booleans(),
    price_tick=st.integers(-600, 599),
)
def test_exact_out_of_an_exact_in_result_costs_no_more(
    amount: int, zfo: bool, price_tick: int
) -> None:
    liquidity = 10**22
    pool = UniswapV3State(
        address="0x" + "01" * 20,
        token0="0x" + "aa" * 20,
        token1="0x" + "bb" * 20,
        fee=3000,
        tick_spacing=60,
        sqrt_price_x96=get_sqrt_ratio_at_tick(price_tick),
        tick=price_tick,
        liquidity=liquidity,
        ticks={-600: TickInfo(liquidity, liquidity), 600: TickInfo(liquidity, -liquidity)},
    )
    token_in = pool.token0 if zfo else pool.token1
    sold = pool.swap_exact_in(token_in, amount)
    assert sold.amount_out == pool.amount_out(token_in, amount)
    if sold.partial or sold.amount_out == 0:
        return
    bought = pool.swap_exact_out(token_in, sold.amount_out)
    assert bought.amount_out == sold.amount_out and bought.amount_in <= sold.amount_in
