"""Solidly-style pairs as in Velodrome V2 / Aerodrome ``Pool.sol``: volatile and stable.

The fee is in basis points of 10_000, as ``PoolFactory.getFee`` returns it (Velodrome's
defaults: 5 = 0.05% stable, 30 = 0.30% volatile). ``getAmountOut`` takes the fee off
``amountIn`` first, then prices the rest: ``x*y`` for volatile pairs, ``x³y + xy³`` on
reserves scaled to 18 decimals for stable ones, solved by the contract's ``_get_y`` Newton
loop. The fee leaves the pair (to its PoolFees contract), so reserves grow by ``in - fee``.
There is no exact-output quote on chain (no ``getAmountIn``), so none here.

Checked against invariants and hand-verified values only: no Velodrome bytecode ships offline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from workbench.errors import InsufficientLiquidityError, MarketError
from workbench.market.pool import Swap, check_amount, no_price_limit, zero_for_one

FEE_DENOMINATOR = 10_000
E18 = 10**18


def stable_k(x: int, y: int, decimals0: int, decimals1: int) -> int:
    """``_k`` of a stable pair: x³y + xy³ on reserves scaled to 18 decimals (floored stepwise)."""
    _x = x * E18 // 10**decimals0
    _y = y * E18 // 10**decimals1
    _a = _x * _y // E18
    _b = _x * _x // E18 + _y * _y // E18
    return _a * _b // E18


def _f(x0: int, y: int) -> int:
    return (x0 * y // E18) * (x0 * x0 // E18 + y * y // E18) // E18


def _d(x0: int, y: int) -> int:
    return 3 * x0 * (y * y // E18) // E18 + (x0 * x0 // E18) * x0 // E18


def get_y(x0: int, xy: int, y: int, decimals0: int, decimals1: int) -> int:
    """``Pool._get_y``: the least y with f(x0, y) >= xy, from the starting guess ``y``.

    ``decimals0``/``decimals1`` are the pair's: the contract's ``_k(x0, y + 1)`` check rescales
    its (already scaled) arguments by them, and we keep that quirk.
    """
    for _ in range(255):
        k = _f(x0, y)
        if k < xy:
            dy = (xy - k) * E18 // _d(x0, y)
            if dy == 0:
                if k == xy:
                    return y
                if stable_k(x0, y + 1, decimals0, decimals1) > xy:
                    return y + 1
                dy = 1
            y += dy
        else:
            dy = (k - xy) * E18 // _d(x0, y)
            if dy == 0:
                if k == xy or _f(x0, y - 1) < xy:
                    return y
                dy = 1
            if dy > y:
                raise MarketError("stable pair: _get_y underflows (the pair reverts)")
            y -= dy
    raise MarketError("stable pair: _get_y did not converge in 255 rounds (reverts with Y())")


@dataclass(frozen=True, slots=True, kw_only=True)
class SolidlyPool:
    """A Velodrome V2-style pair's reserves (as of its last ``Sync``), kind, fee and decimals."""

    address: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int
    stable: bool
    fee: int  # basis points of 10_000
    decimals0: int = 18
    decimals1: int = 18

    def __post_init__(self) -> None:
        if not 0 <= self.fee < FEE_DENOMINATOR:
            raise MarketError(
                f"fee is in basis points, 0 <= fee < 10_000 (30 = 0.30%), got {self.fee}"
            )
        if not (0 <= self.decimals0 <= 77 and 0 <= self.decimals1 <= 77):
            raise MarketError("decimals must be a token's decimals() (0..77)")
        check_amount(self.reserve0, "reserve0")
        check_amount(self.reserve1, "reserve1")

    @property
    def tokens(self) -> tuple[str, str]:
        return (self.token0, self.token1)

    def k(self) -> int:
        """The pair's invariant as its ``swap`` checks it."""
        if self.stable:
            return stable_k(self.reserve0, self.reserve1, self.decimals0, self.decimals1)
        return self.reserve0 * self.reserve1

    def amount_out(self, amount_in: int, zfo: bool) -> int:
        """``getAmountOut`` (the fee already taken off ``amount_in``): ``_getAmountOut``."""
        r0, r1 = self.reserve0, self.reserve1
        if r0 == 0 or r1 == 0:
            raise InsufficientLiquidityError("the pair has no liquidity")
        if not self.stable:
            r_in, r_out = (r0, r1) if zfo else (r1, r0)
            return amount_in * r_out // (r_in + amount_in)
        xy = self.k()
        s0, s1 = r0 * E18 // 10**self.decimals0, r1 * E18 // 10**self.decimals1
        r_in, r_out = (s0, s1) if zfo else (s1, s0)
        dec_in, dec_out = (
            (self.decimals0, self.decimals1) if zfo else (self.decimals1, self.decimals0)
        )
        scaled_in = amount_in * E18 // 10**dec_in
        y = get_y(scaled_in + r_in, xy, r_out, self.decimals0, self.decimals1)
        if y > r_out:
            raise MarketError("stable pair: reserve - _get_y underflows (the pair reverts)")
        return (r_out - y) * 10**dec_out // E18

    def swap_exact_in(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        no_price_limit(sqrt_price_limit_x96)
        check_amount(amount_in, "amount_in")
        zfo = zero_for_one(self.token0, self.token1, token_in)
        fee = amount_in * self.fee // FEE_DENOMINATOR
        out = self.amount_out(amount_in - fee, zfo)
        kept = amount_in - fee
        if zfo:
            after = replace(self, reserve0=self.reserve0 + kept, reserve1=self.reserve1 - out)
        else:
            after = replace(self, reserve0=self.reserve0 - out, reserve1=self.reserve1 + kept)
        return Swap(amount_in, out, after)

    def swap_exact_out(
        self, token_in: str, amount_out: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        raise MarketError(
            "exact-output swaps are not supported for Solidly/Velodrome pairs (the pair has no "
            "getAmountIn); search amount_in with swap_exact_in instead"
        )
