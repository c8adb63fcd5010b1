"""What every pool model offers: exact integer quotes that return the pool's next state.

Pool states are frozen dataclasses; quoting never mutates, it returns ``Swap.pool_after``
(degenbot's ``override_state`` idea, without the mutation). Amounts are ints in base units.
"""

from __future__ import annotations

from dataclasses import Field, dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from workbench.errors import MarketError

UNKNOWN_TOKEN = ""
"""A token not known yet: a pool's state built from a log that does not name its tokens
(a V2 pair's first ``Sync`` seen by ``MarketState``)."""


@dataclass(frozen=True, slots=True)
class Swap:
    """The result of a quote: what goes in, what comes out, and the pool afterwards.

    ``partial`` is True when the pool could not fill the requested amount (a V3 price limit
    or the end of liquidity was reached first): the amounts are then what it would swap.
    """

    amount_in: int
    amount_out: int
    pool_after: Pool
    partial: bool = False


@runtime_checkable
class Pool(Protocol):
    """A two-token pool (multi-token pools expose one per pair of tokens)."""

    @property
    def address(self) -> str: ...

    @property
    def tokens(self) -> tuple[str, ...]: ...

    def swap_exact_in(
        self, token_in: str, amount_in: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap: ...

    def swap_exact_out(
        self, token_in: str, amount_out: int, sqrt_price_limit_x96: int | None = None
    ) -> Swap: ...


class PoolState(Pool, Protocol):
    """A pool's state as its venue owns it: a Pool that is a frozen dataclass, so that log
    transitions and STATE.json can replace and read its fields (see ``market.venue``)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]


def same_address(a: str, b: str) -> bool:
    """Addresses compare case-insensitively (checksummed or not)."""
    return a == b or a.lower() == b.lower()


def zero_for_one(token0: str, token1: str, token_in: str) -> bool:
    """True when ``token_in`` is token0 (selling token0 for token1)."""
    if same_address(token_in, token0):
        return True
    if same_address(token_in, token1):
        return False
    raise MarketError(f"token {token_in} is not in this pool ({token0}, {token1})")


def check_amount(amount: int, what: str = "amount") -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise MarketError(f"{what} must be an integer in base units, got {type(amount).__name__}")
    if amount < 0 or amount >= 2**256:
        raise MarketError(f"{what} must be in [0, 2**256), got {amount}")


def no_price_limit(limit: int | None) -> None:
    """Refuses a price limit on a venue that has none (only Uniswap V3 pools take one)."""
    if limit is not None:
        raise MarketError("sqrt_price_limit_x96 applies to Uniswap V3 pools only")
