"""The store contract on a SQLite file in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.store.store_contract import StoreContract


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'runs.db'}"
