"""Column types that keep amounts and times exact on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

WEI_DIGITS = 78
"""Characters a stored amount may take: every uint256 and every int256 (with its sign)."""


class Wei(TypeDecorator[int]):
    """An exact integer amount (wei or token base units, signed) stored as decimal text.

    uint256 amounts overflow every SQL integer type and SQLite has no exact NUMERIC, so every
    backend stores the text: equality works in SQL, ordering and sums belong in Python.
    """

    impl = String(WEI_DIGITS)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"a Wei column takes an int amount, got {type(value).__name__}")
        text = str(int(value))
        if len(text) > WEI_DIGITS:
            raise ValueError(f"amount {value} does not fit in {WEI_DIGITS} characters")
        return text

    def process_result_value(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp; SQLite (which keeps no zone) gives it back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a timestamp needs a timezone, got naive {value.isoformat()}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
