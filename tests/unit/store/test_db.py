"""Where the store lives: an explicit URL, else WORKBENCH_DB_URL, else ./workbench.db."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.store import URL_ENV, database_url, open_store, run_rows


def test_an_explicit_url_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "sqlite:////elsewhere.db")
    assert database_url("sqlite:////here.db") == "sqlite:////here.db"
    assert database_url() == "sqlite:////elsewhere.db"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgres_urls_get_the_psycopg_driver(scheme: str) -> None:
    url = f"{scheme}://me@127.0.0.1:5432/runs"
    assert database_url(url) == "postgresql+psycopg://me@127.0.0.1:5432/runs"
    assert database_url("postgresql+psycopg2://h/db") == "postgresql+psycopg2://h/db"


def test_the_default_is_workbench_db_in_the_cwd_created_on_first_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert database_url() == f"sqlite:///{tmp_path / 'workbench.db'}"
    with open_store() as store:
        assert run_rows(store) == []
    assert (tmp_path / "workbench.db").is_file()
