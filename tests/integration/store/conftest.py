"""A throwaway PostgreSQL server for the store tests: initdb in a temp dir, listening on
127.0.0.1 at a free port, stopped (``-m immediate``) and deleted at the end even when a test
fails. Skipped, with the reason, where no server can be started."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing

USER = "workbench"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    names: Iterator[int]

    def new_database(self) -> str:
        """The URL of a fresh, empty database on this server."""
        import psycopg

        name = f"store_test_{next(self.names)}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL bin dir, else the one holding ``pg_ctl`` on the PATH."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    found = versions[-1] if versions else shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def _version(pg_ctl: str) -> float:
    try:
        return float(Path(pg_ctl).parts[4])
    except (IndexError, ValueError):
        return 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _unprivileged() -> dict[str, Any]:
    """initdb refuses root: as root, run the server as the ``postgres`` user."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        missing("postgresql", "running as root and no 'postgres' user to run PostgreSQL as")
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = postgres_bin()
    if bindir is None or not (bindir / "initdb").is_file():
        missing(
            "postgresql",
            "PostgreSQL binaries not found (make setup installs them; or apt-get install postgresql)",
        )
    as_user = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    if as_user:
        os.chown(root, as_user["user"], as_user["group"])
    data, log, port = root / "data", root / "server.log", _free_port()

    def run(tool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
        command = [str(bindir / tool), *map(str, args)]
        return subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=60, **as_user
        )

    try:
        made = run("initdb", "-D", data, "-U", USER, "--auth=trust", "--no-locale", "-E", "UTF8")
        if made.returncode:
            missing("postgresql", f"initdb failed: {(made.stderr or made.stdout)[-800:]}")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        started = run("pg_ctl", "start", "-D", data, "-l", log, "-w", "-t", "30", "-o", options)
        if started.returncode:
            tail = log.read_text()[-800:] if log.exists() else started.stderr
            missing("postgresql", f"PostgreSQL did not start: {tail}")
        yield PostgresServer(port=port, names=itertools.count())
    finally:
        if (data / "postmaster.pid").exists():
            run("pg_ctl", "stop", "-D", data, "-m", "immediate", "-w")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
