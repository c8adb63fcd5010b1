"""A V3 pool's initialized ticks: each tick's liquidity, and the sorted index that answers
the tick-bitmap walk of a swap."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TickInfo:
    """An initialized tick: liquidity referencing it (gross) and added when crossed upward (net)."""

    liquidity_gross: int
    liquidity_net: int


@dataclass(frozen=True, slots=True)
class TickIndex:
    """Initialized ticks in order, for the bitmap walk (nextInitializedTickWithinOneWord)."""

    ticks: tuple[int, ...]

    @classmethod
    def of(cls, ticks: Mapping[int, TickInfo]) -> TickIndex:
        return cls(tuple(sorted(t for t, info in ticks.items() if info.liquidity_gross > 0)))

    def next_initialized_within_one_word(
        self, tick: int, tick_spacing: int, lte: bool
    ) -> tuple[int, bool]:
        """Exactly TickBitmap.nextInitializedTickWithinOneWord: the next initialized tick at or
        below (``lte``) or above ``tick`` within the same 256-bit bitmap word, else the word's
        edge, and whether the returned tick is initialized."""
        compressed = tick // tick_spacing  # floor, as Solidity's truncation plus its correction
        if lte:
            word_floor = (compressed >> 8) << 8  # lowest compressed tick of this word
            i = bisect.bisect_right(self.ticks, compressed * tick_spacing) - 1
            if i >= 0 and self.ticks[i] >= word_floor * tick_spacing:
                return self.ticks[i], True
            return word_floor * tick_spacing, False
        nxt = compressed + 1
        word_ceil = ((nxt >> 8) << 8) + 255  # highest compressed tick of next's word
        i = bisect.bisect_left(self.ticks, nxt * tick_spacing)
        if i < len(self.ticks) and self.ticks[i] <= word_ceil * tick_spacing:
            return self.ticks[i], True
        return word_ceil * tick_spacing, False
