"""Uniswap V2 and its forks: constant product with the fee in pips (3000 = 0.30%).

For fee 3000 these equal UniswapV2Library.getAmountOut/getAmountIn exactly (997/1000 is
997000/1000000 after cancelling); other fees match forks that charge ``fee`` pips.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import InsufficientLiquidityError, MarketError
from workbench.market.pool import Swap, check_amount, no_price_limit, zero_for_one

FEE_DENOMINATOR = 1_000_000
MAX_RESERVE = 2**112 - 1  # reserves are uint112: the pair reverts ('OVERFLOW') beyond them


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int = 3000) -> int:
    """The most ``reserve_out`` token a pair gives for ``amount_in`` (floor)."""
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidityError("the pair has no liquidity")
    with_fee = amount_in * (FEE_DENOMINATOR - fee)
    return with_fee * reserve_out // (reserve_in * FEE_DENOMINATOR + with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee: int = 3000) -> int:
    """The least input for which the pair gives ``amount_out`` (Router02's formula, + 1)."""
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidityError("the pair has no liquidity")
    if amount_out >= reserve_out:
        raise InsufficientLiquidityError(f"amount out {amount_out} >= reserve {reserve_out}")
    return (
        reserve_in
        * amount_out
        * FEE_DENOMINATOR
        // ((reserve_out - amount_out) * (FEE_DENOMINATOR - fee))
        + 1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UniswapV2Pool:
    """A V2-style pair's state: reserves as of its last ``Sync``."""

    address: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int
    fee: int = 3000

    def __post_init__(self) -> None:
        if not 0 <= self.fee < FEE_DENOMINATOR:
            raise MarketError(
                f"fee must be in pips, 0 <= fee < 1_000_000 (3000 = 0.30%), got {self.fee}"
            )
        check_amount(self.reserve0, "reserve0")
        check_amount(self.reserve1, "reserve1")

    @property
    def tokens(self) -> tuple[str, str]:
        return (self.token0, self.token1)

    def reserves_for(self, token_in: str) -> tuple[int, int]:
        """(reserve_in, reserve_out) when selling ``token_in``."""
        if zero_for_one(self.token0, self.token1, token_in):
            return self.reserve0, self.reserve1
        return self.reserve1, self.reserve0

    def _after(self, zfo: bool, amount_in: int, amount_out: int) -> UniswapV2Pool:
        if zfo:
            r0, r1 = self.reserve0 + amount_in, self.reserve1 - amount_out
        else:
            r0, r1 = self.reserve0 - amount_out, self.reserve1 + amount_in
        return UniswapV2Pool(
            address=self.address,
            token0=self.token0,
            token1=self.token1,
            reserve0=r0,
            reserve1=r1,
            fee=self.fee,
        )

    def amount_out(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> int:
        """Just the output of ``swap_exact_in`` (no next state): the screening fast path,
        with the same checks folded into one branch (the uint112 bound on the new reserve
        also bounds the amount)."""
        if sqrt_price_limit_x96 is not None:
            no_price_limit(sqrt_price_limit_x96)
        if token_in == self.token0:
            r_in, r_out = self.reserve0, self.reserve1
        elif token_in == self.token1:
            r_in, r_out = self.reserve1, self.reserve0
        elif zero_for_one(self.token0, self.token1, token_in):  # other letter case
            r_in, r_out = self.reserve0, self.reserve1
        else:
            r_in, r_out = self.reserve1, self.reserve0
        if type(amount_in) is not int or amount_in < 0 or r_in + amount_in > MAX_RESERVE:
            check_amount(amount_in, "amount_in")
            _fits(r_in + amount_in)
        if not r_in or not r_out:
            raise InsufficientLiquidityError("the pair has no liquidity")
        with_fee = amount_in * (FEE_DENOMINATOR - self.fee)
        return with_fee * r_out // (r_in * FEE_DENOMINATOR + with_fee)

    def swap_exact_in(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        no_price_limit(sqrt_price_limit_x96)
        check_amount(amount_in, "amount_in")
        zfo = zero_for_one(self.token0, self.token1, token_in)
        r_in, r_out = (self.reserve0, self.reserve1) if zfo else (self.reserve1, self.reserve0)
        _fits(r_in + amount_in)
        out = get_amount_out(amount_in, r_in, r_out, self.fee)
        return Swap(amount_in, out, self._after(zfo, amount_in, out))

    def swap_exact_out(
        self, token_in: str, amount_out: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap:
        no_price_limit(sqrt_price_limit_x96)
        check_amount(amount_out, "amount_out")
        zfo = zero_for_one(self.token0, self.token1, token_in)
        r_in, r_out = (self.reserve0, self.reserve1) if zfo else (self.reserve1, self.reserve0)
        amount_in = get_amount_in(amount_out, r_in, r_out, self.fee)
        _fits(r_in + amount_in)
        return Swap(amount_in, amount_out, self._after(zfo, amount_in, amount_out))


def _fits(reserve: int) -> None:
    if reserve > MAX_RESERVE:
        raise MarketError(
            f"reserve {reserve} would exceed uint112: the pair reverts ('UniswapV2: OVERFLOW')"
        )
