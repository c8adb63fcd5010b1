"""Wei and UtcDateTime: exact amounts of any (u)int256 and aware UTC times on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from workbench.store.columns import UtcDateTime, Wei

DIALECTS = [sqlite.dialect(), postgresql.dialect()]


@given(st.integers(min_value=-(2**255), max_value=2**256 - 1))
def test_wei_round_trips_every_int256_and_uint256(value: int) -> None:
    for dialect in DIALECTS:
        text = Wei().process_bind_param(value, dialect)
        assert text is not None and len(text) <= 78
        assert Wei().process_result_value(text, dialect) == value


@pytest.mark.parametrize("value", [1.0, True, "5", 10**78])
def test_wei_refuses_what_it_cannot_store_exactly(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        Wei().process_bind_param(value, DIALECTS[0])  # type: ignore[arg-type]


def test_wei_keeps_none() -> None:
    assert Wei().process_bind_param(None, DIALECTS[0]) is None
    assert Wei().process_result_value(None, DIALECTS[0]) is None


def test_timestamps_are_stored_in_utc_and_read_back_aware() -> None:
    column = UtcDateTime()
    local = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    stored = column.process_bind_param(local, DIALECTS[0])
    assert stored == datetime(2024, 1, 1, 10, tzinfo=UTC)
    naive_from_sqlite = datetime(2024, 1, 1, 10)
    assert column.process_result_value(naive_from_sqlite, DIALECTS[0]) == stored
    with pytest.raises(ValueError, match="needs a timezone"):
        column.process_bind_param(datetime(2024, 1, 1), DIALECTS[0])
