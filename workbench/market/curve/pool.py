"""Curve StableSwap plain pools (2 to 4 coins), as the Vyper ``exchange`` computes them.

``get_D``/``get_y`` follow the classic template (3pool and its successors, factory plain
pools). ``amp`` is A times ``a_precision``, i.e. what ``A_precise()`` returns; pools without
``A_PRECISION`` (3pool era) have ``a_precision=1`` and ``amp = A()``. Balances are scaled by
``rates[i] = 10**(36 - decimals[i])`` (``xp = balance * rate / 1e18``). The fee (1e10
denominator, 4_000_000 = 0.04%) comes off ``dy`` before it is converted back to token units,
as ``exchange`` does; the admin share of the fee leaves the pool. Not modelled: A ramping
(give the A of the block), stableswap-ng's different ``get_D`` rounding and dynamic fee.
A plain pool has no exact-output exchange (only some expose ``get_dx``), so none here.

Checked against invariants and hand-verified values only: no Curve bytecode ships offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from workbench.errors import InsufficientLiquidityError, MarketError
from workbench.market.pool import Swap, check_amount, no_price_limit, same_address

PRECISION = 10**18
FEE_DENOMINATOR = 10**10
MAX_FEE = 5 * 10**9
MAX_COINS = 4


def get_D(xp: Sequence[int], amp: int, a_precision: int = 100) -> int:
    """The invariant D of the scaled balances ``xp`` (Newton's method, to within 1)."""
    n = len(xp)
    s = sum(xp)
    if s == 0:
        return 0
    if 0 in xp:
        raise InsufficientLiquidityError("a coin's balance is zero: get_D divides by it (reverts)")
    d = s
    ann = amp * n
    for _ in range(255):
        d_p = d
        for x in xp:
            d_p = d_p * d // (x * n)
        d_prev = d
        d = (
            (ann * s // a_precision + d_p * n)
            * d
            // ((ann - a_precision) * d // a_precision + (n + 1) * d_p)
        )
        if abs(d - d_prev) <= 1:
            return d
    raise MarketError("get_D did not converge in 255 rounds (the pool reverts)")


def get_y(i: int, j: int, x: int, xp: Sequence[int], amp: int, a_precision: int = 100) -> int:
    """The balance of coin ``j`` that keeps D when coin ``i``'s scaled balance becomes ``x``."""
    n = len(xp)
    if i == j or not (0 <= i < n and 0 <= j < n):
        raise MarketError(f"coin indices must differ and be in [0, {n}): i={i}, j={j}")
    d = get_D(xp, amp, a_precision)
    ann = amp * n
    c = d
    s = 0
    for k in range(n):
        if k == j:
            continue
        x_k = x if k == i else xp[k]
        if x_k == 0:
            raise InsufficientLiquidityError(
                "a coin's balance is zero: get_y divides by it (reverts)"
            )
        s += x_k
        c = c * d // (x_k * n)
    c = c * d * a_precision // (ann * n)
    b = s + d * a_precision // ann
    y = d
    for _ in range(255):
        y_prev = y
        y = (y * y + c) // (2 * y + b - d)
        if abs(y - y_prev) <= 1:
            return y
    raise MarketError("get_y did not converge in 255 rounds (the pool reverts)")


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveStableSwapPool:
    """A plain pool's coins, balances (base units), decimals, ``amp`` (A × a_precision), fee
    and admin fee (both with the 1e10 denominator). With more than two coins every swap
    names its ``token_out``."""

    address: str
    tokens: tuple[str, ...]
    balances: tuple[int, ...]
    decimals: tuple[int, ...]
    amp: int
    fee: int
    admin_fee: int = 0
    a_precision: int = 100

    def __post_init__(self) -> None:
        n = len(self.tokens)
        if not 2 <= n <= MAX_COINS:
            raise MarketError(f"a plain pool has 2 to {MAX_COINS} coins, got {n}")
        if not len(self.balances) == len(self.decimals) == n:
            raise MarketError("tokens, balances and decimals must have one entry per coin")
        if not all(0 <= d <= 18 for d in self.decimals):
            raise MarketError(f"coin decimals must be in [0, 18], got {self.decimals}")
        if self.a_precision < 1 or self.amp < self.a_precision:
            raise MarketError(
                f"amp is A * a_precision (A >= 1): amp={self.amp}, a_precision={self.a_precision}"
            )
        if not 0 <= self.fee <= MAX_FEE or not 0 <= self.admin_fee <= FEE_DENOMINATOR:
            raise MarketError(
                f"fee (<= 5e9) and admin_fee (<= 1e10) use a 1e10 denominator: {self.fee}, {self.admin_fee}"
            )
        for b in self.balances:
            check_amount(b, "balance")

    @property
    def rates(self) -> tuple[int, ...]:
        """``RATES``: 10**(36 - decimals), so that ``balance * rate / 1e18`` has 18 decimals."""
        return tuple(10 ** (36 - d) for d in self.decimals)

    def xp(self) -> list[int]:
        return [b * r // PRECISION for b, r in zip(self.balances, self.rates, strict=True)]

    def invariant(self) -> int:
        """D of the current balances."""
        return get_D(self.xp(), self.amp, self.a_precision)

    def index(self, token: str) -> int:
        for k, t in enumerate(self.tokens):
            if same_address(t, token):
                return k
        raise MarketError(f"token {token} is not in this pool {self.tokens}")

    def exchange(self, i: int, j: int, dx: int) -> tuple[int, CurveStableSwapPool]:
        """``exchange(i, j, dx)``: the amount of coin ``j`` paid out, and the pool after."""
        rates, xp = self.rates, self.xp()
        x = xp[i] + dx * rates[i] // PRECISION
        y = get_y(i, j, x, xp, self.amp, self.a_precision)
        dy = xp[j] - y - 1  # "-1 just in case there were some rounding errors"
        if dy < 0:
            raise MarketError("xp[j] - y - 1 underflows (the pool reverts): amount too small")
        dy_fee = dy * self.fee // FEE_DENOMINATOR
        out = (dy - dy_fee) * PRECISION // rates[j]
        admin = dy_fee * self.admin_fee // FEE_DENOMINATOR * PRECISION // rates[j]
        balances = list(self.balances)
        balances[i] += dx
        balances[j] -= out + admin
        return out, replace(self, balances=tuple(balances))

    def swap_exact_in(
        self,
        token_in: str,
        amount_in: int,
        sqrt_price_limit_x96: int | None = None,
        *,
        token_out: str | None = None,
    ) -> Swap:
        """Sell ``amount_in`` of ``token_in`` for ``token_out`` (required with 3 or 4 coins)."""
        no_price_limit(sqrt_price_limit_x96)
        check_amount(amount_in, "amount_in")
        i = self.index(token_in)
        if token_out is None:
            if len(self.tokens) > 2:
                raise MarketError(f"this pool has {len(self.tokens)} coins: pass token_out=")
            j = 1 - i
        else:
            j = self.index(token_out)
        out, after = self.exchange(i, j, amount_in)
        return Swap(amount_in, out, after)

    def swap_exact_out(
        self,
        token_in: str,
        amount_out: int,
        sqrt_price_limit_x96: int | None = None,
        *,
        token_out: str | None = None,
    ) -> Swap:
        raise MarketError(
            "exact-output swaps are not supported for Curve plain pools (exchange takes dx); "
            "search amount_in with swap_exact_in instead"
        )
