"""``workbench live`` end to end: the command as a user runs it, against the devnet node, with
its status server read over HTTP while it runs.

- a shadow run stops by itself at ``--until-block``; meanwhile ``/health``, ``/status``,
  ``/metrics`` and the ``/events`` SSE feed answer as documented; its report then has the
  "Predicted vs actual" section;
- what it refuses (live mode without the confirmation flag or its keys, bad options, an unknown
  live.toml key, an ``--until-block`` already mined) it refuses at once with a clear message
  naming the problem;
- SIGINT stops a run cleanly: exit 0, the summary printed, the run finished in the store.

Every process is started with ``WORKBENCH_DB_URL`` in the test's directory and stopped in a
``finally``; reports are written there too (``--out``), never into the checkout.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from devnet import ensure_default_dataset
from devnet.live_node import DevnetNode
from workbench.chain.tools import project_root
from workbench.cli import app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

FIRST = 600  # the devnet replays from here (its head starts at FIRST - 1)
ROOT = project_root()
RUN_LINE = re.compile(r"^run (\d+): blocks (\d+)-(\d+), (\d+) opportunities", re.MULTILINE)


@pytest.fixture(scope="module")
def dataset() -> Path:
    return ensure_default_dataset()


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WORKBENCH_DB_URL": f"sqlite:///{tmp_path / 'runs.db'}",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "250",  # rich wraps at 80 columns when not on a terminal
        "NO_COLOR": "1",
    }


def _workbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench.cli", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A running ``workbench live``; its output goes to files (never a full pipe)."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path
    port: int

    @property
    def stdout(self) -> str:
        return self.out.read_text()

    @property
    def stderr(self) -> str:
        return self.err.read_text()

    def alive(self) -> None:
        assert self.proc.poll() is None, (
            f"workbench live exited {self.proc.returncode}\n{self.stdout}\n{self.stderr[-3000:]}"
        )


@contextlib.contextmanager
def _live(tmp_path: Path, node: DevnetNode, *extra: str) -> Iterator[Live]:
    """``workbench live`` in shadow mode on ``node``; stopped (its process group) on exit."""
    port = _free_port()
    out, err = tmp_path / "live.out", tmp_path / "live.err"
    args = _workbench(
        "live",
        "--rpc",
        node.rpc_url,
        "--ws",
        node.ws_url,
        "--strategy",
        "backrun_arb",
        "--capital-cap",
        "2",
        "--market",
        str(node.market_file),
        "--status-port",
        str(port),
        *extra,
    )
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            args, stdout=o, stderr=e, env=_env(tmp_path), cwd=tmp_path, start_new_session=True
        )
    try:
        yield Live(proc, out, err, port)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # its Anvil, if anything was left
            os.killpg(proc.pid, signal.SIGKILL)


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def _wait_healthy(live: Live, timeout: float = 45) -> dict[str, Any]:
    """``/health`` once it answers 200 (the engine is up and has a fresh head)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        live.alive()
        try:
            status, ctype, body = _get(live.port, "/health")
        except OSError as exc:  # not listening yet
            last = exc
        else:
            last = (status, body)
            if status == 200:
                assert ctype == "application/json"
                health = json.loads(body)
                assert health["ok"] is True
                return health
        time.sleep(0.2)
    raise AssertionError(f"/health never answered 200: {last!r}\n{live.stderr[-3000:]}")


def _status(port: int) -> dict[str, Any]:
    status, ctype, body = _get(port, "/status")
    assert status == 200 and ctype == "application/json", (status, body)
    return json.loads(body)


def _metrics(port: int) -> dict[str, float]:
    """The samples of ``/metrics`` by name (labels dropped; the first of each name wins)."""
    status, ctype, body = _get(port, "/metrics")
    assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, sample.value)
    return samples


def _sse_until(port: int, kind: str, timeout: float) -> tuple[list[str], dict[str, Any] | None]:
    """Reads ``/events`` (a raw socket) until an event of ``kind`` arrives (its data) or
    ``timeout`` passes; also the kinds of every event seen."""
    seen: list[str] = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        )
        sock.settimeout(0.5)
        buffer = b""
        head: bytes | None = None
        event: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break  # the server closed the stream
            buffer += chunk
            if head is None:
                if b"\r\n\r\n" not in buffer:
                    continue
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                assert head.startswith(b"HTTP/1.1 200 "), head
                assert b"\r\nContent-Type: text/event-stream\r\n" in head + b"\r\n", head
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.decode()
                if line.startswith(":"):
                    continue  # keep-alive comment
                if line:
                    name, _, value = line.partition(":")
                    event[name] = value.removeprefix(" ")
                    continue
                if "event" in event:
                    seen.append(event["event"])
                    assert event.get("id", "").isdigit(), event
                    if event["event"] == kind:
                        return seen, json.loads(event["data"])
                event = {}
    return seen, None


def _report(tmp_path: Path, run_id: int) -> str:
    out = tmp_path / f"run-{run_id}.html"
    done = subprocess.run(
        _workbench("report", str(run_id), "--out", str(out)),
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out.read_text()


def test_shadow_run_through_the_cli_and_its_status_server(dataset: Path, tmp_path: Path) -> None:
    with DevnetNode(dataset, block_time=1.5, first_block=FIRST) as node:
        until = node.head + 12  # slack for a loaded machine
        with _live(tmp_path, node, "--until-block", str(until)) as live:
            health = _wait_healthy(live)
            assert isinstance(health["head"], int) and health["head"] >= FIRST - 1

            first = _status(live.port)
            assert first["mode"] == "shadow" and first["strategy"] == "backrun_arb"
            assert isinstance(first["run_id"], int)
            assert first["capital_cap_wei"] == 2 * 10**18  # exact, not a float
            for key in ("head", "chain_head", "blocks", "opportunities", "capital_at_risk_wei"):
                assert type(first[key]) is int, (key, first[key])
            m_first = _metrics(live.port)

            # Blocks come every 1.5 s; an approved intent is published when its slot opens.
            wait = max(6.0, 1.5 * (until - first["head"]) + 3)
            seen, decision = _sse_until(live.port, "decision", timeout=wait)
            assert decision is not None, f"no decision event in {seen}\n{live.stderr[-2000:]}"
            assert {"key", "target_block", "action"} <= set(decision)
            assert decision["action"] == "approved" and decision["strategy"] == "backrun_arb"
            assert FIRST <= decision["target_block"] <= until + 1

            second = _status(live.port)
            deadline = time.monotonic() + 10
            while second["head"] == first["head"] and time.monotonic() < deadline:
                time.sleep(0.3)
                second = _status(live.port)
            assert second["head"] > first["head"] and second["run_id"] == first["run_id"]
            m_second = _metrics(live.port)
            blocks = "workbench_live_blocks_processed_total"
            assert m_second[blocks] > m_first[blocks]
            assert m_second["workbench_live_head_block"] >= second["head"]

            # Until it stops by itself at --until-block: the last metrics it served.
            last, final = m_second, second
            deadline = time.monotonic() + 1.5 * (until - second["head"]) + 30
            while live.proc.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    last = _metrics(live.port)
                    final = _status(live.port)
                time.sleep(0.3)
            assert live.proc.wait(timeout=5) == 0, live.stderr[-3000:]
            stdout = live.stdout
        assert final["head"] <= until
        assert last["workbench_live_opportunities_detected_total"] > 0
        assert last[blocks] >= m_second[blocks]

    match = RUN_LINE.search(stdout)
    assert match, stdout
    run_id, last_block = int(match[1]), int(match[3])
    assert run_id == first["run_id"] and last_block == until
    assert f"workbench report {run_id}" in stdout
    html = _report(tmp_path, run_id)
    assert "Predicted vs actual" in html and "Shadow run" in html
    assert "<td>status</td><td>finished</td>" in html


def _refused(tmp_path: Path, *args: str) -> str:
    """``workbench live ARGS`` in-process; it must refuse (exit 2, no traceback, no run):
    its stderr."""
    result = CliRunner().invoke(
        app, ["live", *args], env={"WORKBENCH_DB_URL": _env(tmp_path)["WORKBENCH_DB_URL"]}
    )
    assert result.exit_code == 2, (args, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not (tmp_path / "runs.db").exists(), "a refused command started a run"
    return " ".join(result.stderr.split())  # unwrapped


def test_refusals_without_a_node(tmp_path: Path) -> None:
    market = str(ensure_default_dataset() / "market.json")
    rpc = ["--rpc", "http://127.0.0.1:9"]
    base = ["--ws", "ws://127.0.0.1:9", "--strategy", "backrun_arb", "--market", market]
    cap = ["--capital-cap", "2"]

    # The real command, as a user runs it: a clean one-line refusal, at once.
    started = time.monotonic()
    done = subprocess.run(
        _workbench("live", *rpc, *base, *cap, "--mode", "live"),
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "--send-real-transactions" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == "" and time.monotonic() - started < 20
    assert not (tmp_path / "runs.db").exists()

    err = _refused(tmp_path, *rpc, *base, *cap, "--mode", "live")
    assert "--send-real-transactions" in err

    live = ["--mode", "live", "--send-real-transactions"]
    err = _refused(tmp_path, *rpc, *base, *cap, *live)
    assert "live mode needs --keystore, --executor, --relay" in err

    err = _refused(tmp_path, *rpc, *base, *cap, *live, "--relay", "http://127.0.0.1:9")
    assert "live mode needs --keystore, --executor" in err and "--relay" not in err

    err = _refused(tmp_path, *rpc, *base, "--capital-cap", "abc")
    assert "'abc' is not a decimal amount" in err

    err = _refused(tmp_path, *rpc, *base, "--capital-cap", "0.0000000000000000001")
    assert "at most 18 decimals" in err

    err = _refused(tmp_path, "--rpc", "ftp://x", *base, *cap)
    assert "rpc must be an http(s) URL" in err

    err = _refused(tmp_path, *rpc, "--ws", "http://127.0.0.1:9", *base[2:], *cap)
    assert "ws must be a ws(s) URL" in err

    err = _refused(tmp_path, *rpc, *base, *cap, "--mode", "paper")
    assert "mode" in err and "'shadow' or 'live'" in err

    err = _refused(tmp_path, *base, *cap)
    assert "rpc: Field required" in err

    config = tmp_path / "live.toml"
    config.write_text('strategy = "backrun_arb"\ncapital_cap = "2"\nmax_gas_price = 100\n')
    err = _refused(tmp_path, "--config", str(config), *rpc, *base)
    assert "max_gas_price: Extra inputs are not permitted" in err

    config.write_text("strategy = [\n")
    err = _refused(tmp_path, "--config", str(config), *rpc, *base, *cap)
    assert "is not valid TOML" in err

    err = _refused(tmp_path, "--config", str(tmp_path / "missing.toml"), *rpc, *base, *cap)
    assert "cannot read" in err and "missing.toml" in err


def test_sigint_stops_cleanly(dataset: Path, tmp_path: Path) -> None:
    with (
        DevnetNode(dataset, block_time=1.5, first_block=FIRST) as node,
        _live(tmp_path, node) as live,
    ):
        _wait_healthy(live)
        # --until-block already mined: refused, rather than a run that could never finish.
        args = ["--rpc", node.rpc_url, "--ws", node.ws_url, "--strategy", "backrun_arb"]
        args += ["--capital-cap", "2", "--market", str(node.market_file), "--until-block", "5"]
        past = CliRunner().invoke(
            app, ["live", *args], env={"WORKBENCH_DB_URL": f"sqlite:///{tmp_path / 'past.db'}"}
        )
        assert past.exit_code == 1, (past.output, past.exception)
        assert "--until-block 5 is not after the node's head" in past.stderr
        assert not (tmp_path / "past.db").exists()
        deadline = time.monotonic() + 60
        while (status := _status(live.port))["blocks"] < 1:  # a run with a block to finish
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        run_id = status["run_id"]
        os.killpg(live.proc.pid, signal.SIGINT)  # as Ctrl-C: the runner and its Anvil fork
        started = time.monotonic()
        code = live.proc.wait(timeout=20)
        took = time.monotonic() - started
        assert code == 0, live.stderr[-3000:]
        assert took < 15, f"took {took:.1f} s to stop"
        stdout = live.stdout
        with pytest.raises(OSError):
            _get(live.port, "/health")  # the status server is gone with it
    match = RUN_LINE.search(stdout)
    assert match and int(match[1]) == run_id, stdout
    assert "Traceback" not in live.stderr
    html = _report(tmp_path, run_id)
    assert "Predicted vs actual" in html and "Shadow run" in html
    assert "<td>status</td><td>finished</td>" in html
