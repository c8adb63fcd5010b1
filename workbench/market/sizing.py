"""Optimal sizing: the integer input that maximises a cycle's profit, simulated exactly.

All-V2 cycles (distinct Uniswap V2-style pools) have a closed form: the hops compose into one
virtual constant-product pool, out(x) = N·x / (D + M·x) before getAmountOut's floors, whose
profit peaks at x* = (sqrt(N·D) - D) / M. Its value U = (sqrt(N·D) - D)² / (M·D) bounds every
integer profit from above, and (with no ``max_input``) the answer is within
T = 2 + Σ_k Π_{j>k} s_j of U, where s_j = (1 - fee_j)·r_out_j / r_in_j is hop j's spot rate:
each floor loses less than one unit of its hop's output, worth at most the later hops' spot
rates in the base token. Near x* the answer is polished over neighbouring final outputs, each
bought with the least input that buys it.

Any other cycle (V3, Curve, Balancer, a pool met twice) is maximised by bracketing the peak,
then golden-section search on integers until the bracket is at most max(2, x // 2**17) wide
(x its lower end); the best point simulated is returned. Rounding makes the exact profit a
step function under a concave one, so the result is within a few rounding steps of the best,
and an arbitrage worth less than that rounding may be missed. For V2/V3 mixes the bracket is
sought around the closed form's x for the cycle with each V3 pool taken on its in-range
virtual reserves (exact while its hops stay in range, close when they cross ticks only a
little; see ``_search``); otherwise, or when no bracket holds there, the input is doubled
from 1 until the peak is passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import isqrt
from typing import Protocol, cast

from workbench.errors import ConfigError, MarketError
from workbench.market.graph import Cycle
from workbench.market.pool import Pool, Swap
from workbench.market.uniswap_v2 import FEE_DENOMINATOR, UniswapV2Pool
from workbench.market.uniswap_v3 import UniswapV3State

MAX_AMOUNT = 2**256 - 1
INFEASIBLE = -(2**257)
"""The optimiser's profit for an input the cycle cannot trade: below any simulated profit."""
NOISE_FACTOR = 4
"""The doubling stops at a loss this many times what rounding could explain."""
POLISH_OUTPUTS = 8
"""The V2 polish tries final outputs within this many units of the closed form's."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SizedOpportunity:
    """A cycle at its profit-maximising input, as ``simulate`` computes it."""

    cycle: Cycle
    amount_in: int
    amount_out: int
    profit: int


class _MultiTokenPool(Protocol):
    def swap_exact_in(
        self,
        token_in: str,
        amount_in: int,
        sqrt_price_limit_x96: int | None = None,
        *,
        token_out: str | None = None,
    ) -> Swap: ...


def simulate(cycle: Cycle, amount_in: int) -> tuple[int, int]:
    """Sells ``amount_in`` of the base along the cycle: (amount out, profit), exact integers.

    A pool the cycle meets twice is met the second time in its state after the first swap.
    Raises ``MarketError`` when the cycle cannot trade this amount (a pool rejects it or fills
    only part of it).
    """
    amount = hop_outputs(cycle, amount_in)[-1]
    return amount, amount - amount_in


def hop_outputs(cycle: Cycle, amount_in: int) -> list[int]:
    """What each hop of the cycle outputs when it sells ``amount_in`` (see ``simulate``)."""
    outputs: list[int] = []
    states: dict[str, Pool] = {}
    amount = amount_in
    for i, hop in enumerate(cycle.hops):
        pool = states.get(hop.address, hop.pool)
        if len(pool.tokens) > 2:
            swap = cast(_MultiTokenPool, pool).swap_exact_in(
                hop.token_in, amount, token_out=hop.token_out
            )
        else:
            swap = pool.swap_exact_in(hop.token_in, amount)
        if swap.partial:
            raise MarketError(
                f"hop {i} ({hop.address}) fills only {swap.amount_in} of {amount}: "
                "the cycle cannot trade this size"
            )
        states[hop.address] = swap.pool_after
        amount = swap.amount_out
        outputs.append(amount)
    return outputs


def optimal_input(cycle: Cycle, *, max_input: int | None = None) -> SizedOpportunity | None:
    """The input in [1, ``max_input``] that maximises profit, or None if none is profitable."""
    cap = MAX_AMOUNT if max_input is None else max_input
    if not 1 <= cap <= MAX_AMOUNT:
        raise ConfigError(f"max_input must be in [1, 2**256), got {max_input}")
    if not _may_profit(cycle):
        return None
    profit = _memoised(cycle)
    hops = _constant_product_hops(cycle)
    if hops is None:
        virtual = _constant_product_hops(cycle, virtual_v3=True)
        guess = None if virtual is None else _peak(virtual, cap)
        best = _search(profit, cap, len(cycle.hops), guess)
    else:
        x0 = _peak(hops, cap)
        if x0 is None:  # the cycle's spot rate is at most 1: no size is profitable
            return None
        if profit(x0) == INFEASIBLE:  # beyond a pair's uint112 reserves: search below
            best = _search(profit, cap, len(cycle.hops))
        else:
            best = max(_v2_polish(hops, x0, cap, profit), key=lambda x: (profit(x), -x))
    if best is None or profit(best) <= 0:
        return None
    amount_out, gain = simulate(cycle, best)
    return SizedOpportunity(cycle=cycle, amount_in=best, amount_out=amount_out, profit=gain)


def _may_profit(cycle: Cycle) -> bool:
    """False when no input can profit: the product of the hops' marginal rates at zero input
    (spot price times fee factor) is at most 1. Exact for V2 and V3 hops, whose marginal
    rate only falls as the input grows (and whose outputs round down), so every output is at
    most that product times the input. True for any other venue (unknown)."""
    num, den = 1, 1
    for hop, pool in zip(cycle.hops, cycle.pools, strict=True):
        if isinstance(pool, UniswapV2Pool):
            r_in, r_out = pool.reserves_for(hop.token_in)
            num, den = num * (FEE_DENOMINATOR - pool.fee) * r_out, den * FEE_DENOMINATOR * r_in
        elif isinstance(pool, UniswapV3State):
            price, one = pool.sqrt_price_x96**2, 1 << 192
            if hop.token_in.lower() == pool.token0.lower():
                num, den = num * price, den * one
            else:
                num, den = num * one, den * price
            num, den = num * (FEE_DENOMINATOR - pool.fee), den * FEE_DENOMINATOR
        else:
            return True
    return num > den


def _memoised(cycle: Cycle) -> Callable[[int], int]:
    seen: dict[int, int] = {}

    def profit(x: int) -> int:
        if x not in seen:
            try:
                seen[x] = simulate(cycle, x)[1]
            except MarketError:
                seen[x] = INFEASIBLE
        return seen[x]

    return profit


def _constant_product_hops(
    cycle: Cycle, *, virtual_v3: bool = False
) -> list[tuple[int, int, int]] | None:
    """(reserve in, reserve out, fee factor g = 10**6 - fee) per hop, when every hop is a
    distinct V2 pair. With ``virtual_v3``, a V3 pool also counts, on its in-range virtual
    reserves (L/sqrtP, L·sqrtP): it trades so until a tick is crossed."""
    if len({hop.address for hop in cycle.hops}) < len(cycle.hops):
        return None
    hops = []
    for hop, pool in zip(cycle.hops, cycle.pools, strict=True):
        if isinstance(pool, UniswapV2Pool):
            r_in, r_out = pool.reserves_for(hop.token_in)
        elif virtual_v3 and isinstance(pool, UniswapV3State):
            liquidity, price = pool.liquidity, pool.sqrt_price_x96
            reserve0, reserve1 = (liquidity << 96) // price, (liquidity * price) >> 96
            zero_in = hop.token_in.lower() == pool.token0.lower()
            r_in, r_out = (reserve0, reserve1) if zero_in else (reserve1, reserve0)
            if r_in <= 0 or r_out <= 0:
                return None
        else:
            return None
        hops.append((r_in, r_out, FEE_DENOMINATOR - pool.fee))
    return hops


def _compose(hops: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """(N, D, M) of the virtual pool out(x) = N·x / (D + M·x) that the hops make together."""
    n, d, m = 1, 1, 0
    for r_in, r_out, g in hops:
        n2, d2 = g * r_out, FEE_DENOMINATOR * r_in
        n, d, m = n * n2, d * d2, d2 * m + g * n
    return n, d, m


def _v2_polish(
    hops: list[tuple[int, int, int]], x0: int, cap: int, profit: Callable[[int], int]
) -> list[int]:
    """For final outputs near x0's, the least input that buys each (a smaller input buys
    less; a larger one that buys the same only costs more)."""
    z0 = profit(x0) + x0
    inputs = [x0]
    for z in range(max(1, z0 - POLISH_OUTPUTS), z0 + POLISH_OUTPUTS + 1):
        need = z
        for r_in, r_out, g in reversed(hops):
            if need >= r_out:
                break
            need = -(-need * FEE_DENOMINATOR * r_in // (g * (r_out - need)))  # ceil
        else:
            if 1 <= need <= cap:
                inputs.append(need)
    return inputs


def _peak(hops: list[tuple[int, int, int]], cap: int) -> int | None:
    """The closed form's input (within [1, cap]) for constant-product ``hops``; None when
    their spot rate is at most 1."""
    n, d, m = _compose(hops)
    if n <= d:
        return None
    return min(cap, max(1, (isqrt(n * d) - d) // m))


def _search(
    profit: Callable[[int], int], cap: int, n_hops: int, guess: int | None = None
) -> int | None:
    """Brackets the peak, then narrows it by golden section; None when no bracketing sample
    is profitable. Around a ``guess`` x: x ± x/2**20 brackets the peak when x does at least
    as well as both ends; else, if x ± x/64 does, the vertex of the parabola through those
    three points is tried the same way (± 2**-20, ± 2**-12 of it), then x ± x/64 itself;
    else x ± x/2. Without a guess, or when none of these holds, the input is doubled from 1
    until the peak is passed."""
    if guess is not None:
        found = _around(profit, guess, cap, guess >> 20)
        if found is None:
            wide = _around(profit, guess, cap, guess >> 6)
            if wide is not None:
                vertex = _vertex(profit, *wide)
                found = (
                    (vertex is not None and _around(profit, vertex, cap, vertex >> 20))
                    or (vertex is not None and _around(profit, vertex, cap, vertex >> 12))
                    or wide
                )
            else:
                found = _around(profit, guess, cap, guess // 2)
        if found:
            return _golden(profit, *found)
    lo, best, hi = _bracket(profit, cap, n_hops)
    return _golden(profit, lo, best, hi) if profit(best) > 0 else None


def _around(
    profit: Callable[[int], int], x: int, cap: int, width: int
) -> tuple[int, int, int] | None:
    """(x - width, x, x + width) within [1, cap] when x is profitable and does at least as
    well as both ends (the peak is then inside), else None."""
    lo, hi = max(1, x - width), min(cap, x + width)
    peak = profit(x)
    return (lo, x, hi) if peak > 0 and peak >= profit(lo) and peak >= profit(hi) else None


def _vertex(profit: Callable[[int], int], lo: int, x: int, hi: int) -> int | None:
    """The top of the parabola through (lo, x, hi), symmetric around x, within [lo, hi]."""
    p_lo, p_x, p_hi = profit(lo), profit(x), profit(hi)
    if hi - x != x - lo or INFEASIBLE in (p_lo, p_hi):
        return None
    curvature = p_lo - 2 * p_x + p_hi
    if curvature >= 0:
        return None
    return min(hi, max(lo, x + (x - lo) * (p_lo - p_hi) // (2 * curvature)))


def _bracket(profit: Callable[[int], int], cap: int, n_hops: int) -> tuple[int, int, int]:
    """Doubles the input from 1 until the loss is more than rounding can explain, a larger
    input fails, or ``cap``; returns the best sample and its neighbours.

    While amounts are a few units of some intermediate token, rounding makes the profit of a
    real arbitrage look as if it were falling. Rounding loses less than one unit of each
    intermediate token, and a unit is worth at most about the first input that bought some
    of all of them (``first``): a loss beyond NOISE_FACTOR times that is past the peak.
    """
    xs: list[int] = []
    x, first = 1, 0
    while True:
        p = profit(x)
        xs.append(x)
        if p == INFEASIBLE:
            if first:
                break
        elif p > -x:  # something came out
            first = first or x
            if p < -NOISE_FACTOR * (n_hops * first + 1):
                break
        if x >= cap:
            break
        x = min(2 * x, cap)
    j = max(range(len(xs)), key=lambda i: (profit(xs[i]), -i))
    return xs[max(0, j - 1)], xs[j], xs[min(len(xs) - 1, j + 1)]


def _golden(profit: Callable[[int], int], lo: int, best: int, hi: int) -> int:
    """Golden-section search for the best integer in [lo, hi]: keeps one interior point and
    mirrors it, so each step costs one simulation; returns the best point simulated."""
    c = lo + (hi - lo) * 382 // 1000
    while hi - lo > max(2, lo >> 17):
        d = lo + hi - c
        if 5 * abs(d - c) < hi - lo:  # integer rounding let the points drift together
            c = lo + (hi - lo) * 382 // 1000
            d = lo + hi - c
        x1, x2 = sorted((c, d))
        if profit(x1) >= profit(x2):
            hi, c = x2, x1
        else:
            lo, c = x1, x2
        best = max((best, x1, x2), key=lambda x: (profit(x), -x))
    return max((best, lo, (lo + hi) // 2, hi), key=lambda x: (profit(x), -x))
