"""RpcClient against a local HTTP server scripted to misbehave: each case recovers or fails clearly.

The server replies to the n-th request with the n-th scripted action, then with ``ok``.
Sleeps between retries are recorded, not slept; only the ``slow`` case waits (0.2 s timeout).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from workbench.errors import RpcError, RpcTransportError
from workbench.rpc import BreakerPolicy, BreakerState, RetryPolicy, RpcClient

TIMEOUT = 0.2


def _ok(req: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req["id"], "result": req["method"]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, *args: object) -> None:
        pass

    def _send(
        self, status: int, body: bytes, ctype: str = "application/json", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        req = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests += 1
        action = self.server.script.pop(0) if self.server.script else "ok"
        reqs = req if isinstance(req, list) else [req]
        if action == "drop":
            self.close_connection = True
        elif action == "429":
            self._send(429, b"Too Many Requests", "text/plain", Retry_After="1")
        elif action in ("500", "502", "503", "400"):
            self._send(int(action), b"upstream unavailable", "text/plain")
        elif action == "html":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        elif action == "malformed":
            self._send(200, b'{"jsonrpc": "2.0", "id": 1, "resu')
        elif action == "wrong_id":
            replies = [{**_ok(r), "id": r["id"] + 1000} for r in reqs]
            self._send(200, orjson.dumps(replies if isinstance(req, list) else replies[0]))
        elif action == "rpc_error":
            err = {
                "jsonrpc": "2.0",
                "id": reqs[0]["id"],
                "error": {"code": -32000, "message": "nonce too low"},
            }
            self._send(200, orjson.dumps(err))
        elif action == "partial_error":  # batch: replies reversed, the first call failed
            replies = [_ok(r) for r in reqs]
            replies[0] = {
                "jsonrpc": "2.0",
                "id": reqs[0]["id"],
                "error": {"code": -32602, "message": "bad params"},
            }
            self._send(200, orjson.dumps(replies[::-1]))
        elif action == "ok_then_close":  # keep-alive reply, then the server closes the idle socket
            self._send(200, orjson.dumps(_ok(req)))
            self.close_connection = True
        else:
            if action == "slow":
                self.server.stopping.wait(TIMEOUT * 2.5)
            replies = [_ok(r) for r in reqs]
            self._send(200, orjson.dumps(replies if isinstance(req, list) else replies[0]))


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[str] = []
        self.requests = 0
        self.connections = 0
        self.stopping = threading.Event()
        self.closed_one = threading.Event()  # the server closed a client connection
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed_one.set()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out leave broken pipes behind; expected here


@contextlib.contextmanager
def running_server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.stopping.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with running_server() as srv:
        yield srv


@pytest.fixture
def server2() -> Iterator[ScriptedServer]:
    with running_server() as srv:
        yield srv


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def client(urls: str | list[str], sleeps: list[float], **kw: Any) -> RpcClient:
    kw.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05))
    return RpcClient(urls, timeout=TIMEOUT, sleep=sleeps.append, rng=lambda: 0.5, **kw)


FAULTS = {
    "drop": "connection failed: RemoteDisconnected",
    "429": "HTTP 429 Too Many Requests",
    "500": "HTTP 500",
    "502": "HTTP 502",
    "503": "HTTP 503",
    "slow": f"no reply within {TIMEOUT:g}s (timeout)",
    "malformed": "malformed reply: invalid JSON",
    "wrong_id": "malformed reply: response id",
    "html": "malformed reply: invalid JSON",
}


@pytest.mark.parametrize("fault", FAULTS)
def test_recovers_when_a_retry_succeeds(server: ScriptedServer, fault: str) -> None:
    server.script = [fault]
    sleeps: list[float] = []
    with client(server.url, sleeps) as c:
        assert c.call("eth_blockNumber") == "eth_blockNumber"
        assert c.batch([("eth_chainId", []), ("net_version", [])]) == ["eth_chainId", "net_version"]
    assert server.requests == 3 and len(sleeps) == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_persistent_fault_raises_with_every_attempt(server: ScriptedServer, fault: str) -> None:
    server.script = [fault] * 3
    with client(server.url, []) as c, pytest.raises(RpcTransportError) as info:
        c.call("eth_getBalance", ["0x00", "latest"])
    err = info.value
    assert len(err.attempts) == 3 and all(a.startswith(f"{server.url}: ") for a in err.attempts)
    assert all(FAULTS[fault] in a for a in err.attempts), err.attempts
    assert str(err).startswith(f"eth_getBalance failed after 3 attempt(s) on {server.url}")
    assert "check that the node is up" in str(err)


def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    server.script = ["429"]
    sleeps: list[float] = []
    with client(server.url, sleeps, retry=RetryPolicy(base_delay=0.01, max_delay=2.0)) as c:
        c.call("eth_chainId")
    assert sleeps == [1.0]


def test_rpc_error_reply_is_never_retried(server: ScriptedServer) -> None:
    server.script = ["rpc_error", "rpc_error"]
    with client(server.url, []) as c, pytest.raises(RpcError) as info:
        c.call("eth_sendRawTransaction", ["0x02"])
    assert (info.value.code, info.value.method) == (-32000, "eth_sendRawTransaction")
    assert server.requests == 1


def test_client_error_status_is_not_retried_on_the_same_endpoint(server: ScriptedServer) -> None:
    server.script = ["400"]
    with client(server.url, []) as c, pytest.raises(RpcTransportError) as info:
        c.call("eth_chainId")
    assert server.requests == 1 and "HTTP 400" in info.value.attempts[0]


def test_batch_keeps_order_and_returns_errors_in_place(server: ScriptedServer) -> None:
    server.script = ["wrong_id", "partial_error"]
    calls = [("eth_getBalance", [hex(i), "latest"]) for i in range(5)]
    with client(server.url, []) as c:
        out = c.batch(calls)
    assert (
        isinstance(out[0], RpcError) and out[0].code == -32602 and out[0].method == "eth_getBalance"
    )
    assert out[1:] == ["eth_getBalance"] * 4
    assert server.requests == 2


def test_keep_alive_and_idle_close(server: ScriptedServer) -> None:
    sleeps: list[float] = []
    with client(server.url, sleeps) as c:
        for _ in range(5):
            c.call("eth_chainId")
        assert server.connections == 1
        server.script = ["ok_then_close"]
        c.call("eth_chainId")
        assert server.closed_one.wait(2)  # idle: the server's FIN is on its way
        time.sleep(0.01)
        c.call("eth_chainId")  # reconnects before sending: no failed attempt
    assert server.connections == 2 and server.requests == 7 and sleeps == []


def test_one_client_shared_by_threads(server: ScriptedServer) -> None:
    """A live runner's head poller and its block fetches call one client from different
    threads: each thread keeps its own connection, every call gets its own answer, and
    ``close`` closes them all."""
    sleeps: list[float] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def calls(c: RpcClient, tag: int) -> None:
        try:
            start.wait(5)
            for i in range(50):
                method = f"m{tag}_{i}"
                assert c.call(method) == method
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    with client(server.url, sleeps) as c:
        threads = [threading.Thread(target=calls, args=(c, t)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert failures == [] and sleeps == []
        assert server.requests == 200 and server.connections == 4
    assert all(not e.transport._open_conns for e in c.endpoints)  # closed on exit


def test_failover_and_breaker_skips_the_dead_endpoint(server: ScriptedServer) -> None:
    dead = closed_port_url()
    clock = Clock()
    sleeps: list[float] = []
    policy = BreakerPolicy(failure_threshold=2, cooldown=30.0)
    with client([dead, server.url], sleeps, breaker=policy, clock=clock) as c:
        assert c.url == dead and c.urls == (dead, server.url)
        for _ in range(2):
            assert c.call("eth_chainId") == "eth_chainId"
        primary = c.endpoints[0].breaker
        assert primary.state is BreakerState.OPEN and primary.failures == 2
        for _ in range(3):  # skipped while open
            assert c.batch([("eth_chainId", [])]) == ["eth_chainId"]
        assert primary.failures == 2
        clock.now += 30.0  # half-open: one probe, fails, opens again
        assert c.call("eth_chainId") == "eth_chainId"
        assert primary.failures == 3 and primary.state is BreakerState.OPEN
    assert server.requests == 6 and sleeps == []


def test_rounds_alternate_endpoints_then_back_off(
    server: ScriptedServer, server2: ScriptedServer
) -> None:
    server.script = ["503", "503"]
    server2.script = ["502"]
    sleeps: list[float] = []
    with client([server.url, server2.url], sleeps) as c, pytest.raises(RpcTransportError) as info:
        c.call("eth_chainId")
    urls = [a.split(": ")[0] for a in info.value.attempts]
    assert urls == [server.url, server2.url, server.url] and sleeps == [0.005]


def test_all_circuits_open_fails_fast_without_a_request(server: ScriptedServer) -> None:
    server.script = ["500"] * 2
    policy = BreakerPolicy(failure_threshold=2, cooldown=30.0)
    with client(server.url, [], breaker=policy, clock=Clock()) as c:
        with pytest.raises(RpcTransportError) as first:
            c.call("eth_chainId")
        assert len(first.value.attempts) == 2 and "circuit open" in str(first.value)
        with pytest.raises(RpcTransportError, match="no endpoint available") as second:
            c.call("eth_chainId")
    assert second.value.attempts == [] and "next probe in 30.0s" in str(second.value)
    assert server.requests == 2
