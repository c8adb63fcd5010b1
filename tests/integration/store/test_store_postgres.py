"""The store contract on a real PostgreSQL server (started by conftest.py)."""

from __future__ import annotations

import pytest

from tests.unit.store.store_contract import StoreContract


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url
