"""A Balancer V2 weighted pool's state and its swaps, as the Vault executes them.

Given in: the fee comes off the raw amount in (``amountIn - mulUp(amountIn, fee)``), then
balances and amount are upscaled to 18 decimals, and the amount out is downscaled rounding
down. Given out: the amount in is downscaled rounding up, then grossed up by the fee
(``divUp(amountIn, complement(fee))``). Set ``legacy_pow`` for the 2021 V1 pools, whose
``FixedPoint`` has no exact shortcut for the exponents 1, 2 and 4 (50/50 and 80/20 pools).

Proven against bytecode: ``tests/integration/market/test_balancer_bytecode.py`` compares
it with the real Vault and V1 ``WeightedPool`` (npm ``@balancer-labs/v2-deployments``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from workbench.errors import MarketError
from workbench.market.balancer.errors import BALANCE_TOTAL_OVERFLOW, require
from workbench.market.balancer.fixed_point import ONE, complement, div_up, mul_up
from workbench.market.balancer.weighted_math import calc_in_given_out, calc_out_given_in
from workbench.market.pool import Swap, check_amount, no_price_limit, same_address

MIN_WEIGHT = 10**16  # 1%
MAX_TOKENS = 8
_MAX_BALANCE = 2**112  # the Vault packs cash and managed balances in 112 bits each


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerWeightedPool:
    """Vault balances (token base units), normalized 18-decimal weights, token decimals and the
    swap fee as an 18-decimal fraction (``10**15`` = 0.1%). With more than two tokens every
    swap names its ``token_out``."""

    address: str
    tokens: tuple[str, ...]
    balances: tuple[int, ...]
    weights: tuple[int, ...]
    decimals: tuple[int, ...]
    swap_fee: int
    legacy_pow: bool = False

    def __post_init__(self) -> None:
        n = len(self.tokens)
        if not 2 <= n <= MAX_TOKENS:
            raise MarketError(f"a weighted pool has 2 to {MAX_TOKENS} tokens, got {n}")
        if not len(self.balances) == len(self.weights) == len(self.decimals) == n:
            raise MarketError(
                "tokens, balances, weights and decimals must have one entry per token"
            )
        if sum(self.weights) != ONE or min(self.weights) < MIN_WEIGHT:
            raise MarketError(
                f"weights must be normalized (sum 10**18) and each >= 1% (10**16): {self.weights}"
            )
        if not all(0 <= d <= 18 for d in self.decimals):
            raise MarketError(f"token decimals must be in [0, 18], got {self.decimals}")
        if not 0 <= self.swap_fee < ONE:
            raise MarketError(
                f"swap_fee is an 18-decimal fraction (10**15 = 0.1%), got {self.swap_fee}"
            )
        for b in self.balances:
            check_amount(b, "balance")
            if b >= _MAX_BALANCE:
                raise MarketError(f"Vault balances are below 2**112, got {b}")

    def index(self, token: str) -> int:
        for i, t in enumerate(self.tokens):
            if same_address(t, token):
                return i
        raise MarketError(f"token {token} is not in this pool {self.tokens}")

    def _pair(self, token_in: str, token_out: str | None) -> tuple[int, int]:
        i = self.index(token_in)
        if token_out is None:
            if len(self.tokens) > 2:
                raise MarketError(f"this pool has {len(self.tokens)} tokens: pass token_out=")
            return i, 1 - i
        j = self.index(token_out)
        if i == j:
            raise MarketError(f"token_in and token_out are the same token {token_in}")
        return i, j

    def _scale(self, k: int) -> int:
        """The upscaling factor of token ``k``: 10**(18 - decimals). V2+ pools store it as an
        18-decimal number and use mulDown/divDown/divUp by it, which give the same integers."""
        return 10 ** (18 - self.decimals[k])

    def _after(self, i: int, j: int, amount_in: int, amount_out: int) -> BalancerWeightedPool:
        balances = list(self.balances)
        balances[i] += amount_in
        balances[j] -= amount_out
        require(balances[i] < _MAX_BALANCE, BALANCE_TOTAL_OVERFLOW, "the Vault's balance overflows")
        return replace(self, balances=tuple(balances))

    def swap_exact_in(
        self,
        token_in: str,
        amount_in: int,
        sqrt_price_limit_x96: int | None = None,
        *,
        token_out: str | None = None,
    ) -> Swap:
        """A GIVEN_IN swap of ``amount_in`` ``token_in`` for ``token_out``."""
        no_price_limit(sqrt_price_limit_x96)
        check_amount(amount_in, "amount_in")
        i, j = self._pair(token_in, token_out)
        after_fee = amount_in - mul_up(amount_in, self.swap_fee)
        out_scaled = calc_out_given_in(
            self.balances[i] * self._scale(i),
            self.weights[i],
            self.balances[j] * self._scale(j),
            self.weights[j],
            after_fee * self._scale(i),
            shortcuts=not self.legacy_pow,
        )
        out = out_scaled // self._scale(j)
        return Swap(amount_in, out, self._after(i, j, amount_in, out))

    def swap_exact_out(
        self,
        token_in: str,
        amount_out: int,
        sqrt_price_limit_x96: int | None = None,
        *,
        token_out: str | None = None,
    ) -> Swap:
        """A GIVEN_OUT swap: the least ``token_in`` for which the pool pays ``amount_out``."""
        no_price_limit(sqrt_price_limit_x96)
        check_amount(amount_out, "amount_out")
        i, j = self._pair(token_in, token_out)
        # More than the balance fails the pool's MAX_OUT_RATIO check (BAL#305) first, as on
        # chain (Vault.swap reverts with that code, not with an underflow).
        in_scaled = calc_in_given_out(
            self.balances[i] * self._scale(i),
            self.weights[i],
            self.balances[j] * self._scale(j),
            self.weights[j],
            amount_out * self._scale(j),
            shortcuts=not self.legacy_pow,
        )
        amount_in = -(-in_scaled // self._scale(i))  # downscale rounding up
        amount_in = div_up(amount_in, complement(self.swap_fee))
        return Swap(amount_in, amount_out, self._after(i, j, amount_in, amount_out))
