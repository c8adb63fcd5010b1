"""Anvil's command line and environment: Foundry's disk cache of forked state is off for local
nodes (a devnet reuses chain ids and block numbers with other contents) unless asked for, on
for remote ones; Anvil's environment carries no variable of ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.chain.anvil import AnvilConfig, child_env

NO_CACHE = "--no-storage-caching"


@pytest.mark.parametrize(
    ("url", "cache", "flag"),
    [
        ("http://127.0.0.1:8545/", None, True),
        ("http://localhost:8545/", None, True),
        ("https://archive.example:8545/", None, False),
        ("http://127.0.0.1:8545/", True, False),  # a fork replay's own cache, per dataset
        ("https://archive.example:8545/", False, True),
    ],
)
def test_fork_cache_flag(url: str, cache: bool | None, flag: bool) -> None:
    assert (NO_CACHE in AnvilConfig(fork_url=url, fork_cache=cache).args()) is flag


def test_no_cache_flag_without_a_fork() -> None:
    assert NO_CACHE not in AnvilConfig().args()


def test_child_env_holds_no_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WORKBENCH_FORK_URL", "https://node.example/v3/secret")
    monkeypatch.setenv("WORKBENCH_KEYSTORE_PASSWORD", "hunter2")
    env = child_env(tmp_path)
    assert env["HOME"] == str(tmp_path)
    assert set(env) <= {"PATH", "HOME", "TMPDIR", "LANG"}
