"""live.api over real HTTP on 127.0.0.1: health, status, metrics, the SSE feed (order, ids,
keep-alive, a slow client dropped with ``overflow``, shutdown) and bad requests.

The server runs on an event loop in a background thread, as it does beside the runner; the
tests are its clients (``http.client`` and raw sockets) and publish through
``publish_threadsafe`` or a coroutine run on that loop.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from live.api import StatusServer
from live.metrics import LiveMetrics

T = TypeVar("T")
TIMEOUT = 5.0
BIG = 123_456_789_012_345_678_901_234_567_890  # wei: past 2**64, orjson alone cannot encode it


class Harness:
    """A StatusServer on its own loop thread, with a health state the test can change."""

    def __init__(self, **options: Any) -> None:
        self.metrics = LiveMetrics()
        self.healthy = True
        self.details: dict[str, Any] = {"head": 100}
        self.status: Callable[[], Mapping[str, Any]] = lambda: {"head": 100, "realised_wei": BIG}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = StatusServer(
            metrics=self.metrics,
            status=lambda: self.status(),
            health=lambda: (self.healthy, self.details),
            **options,
        )
        self.port = self.run(self.server.start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def on_loop() -> T:
            return fn(*args)

        return self.run(on_loop())

    def clients(self) -> int:
        return self.call(lambda: self.server.sse_clients)

    def close(self) -> None:
        try:
            self.run(self.server.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT)
            self.loop.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Harness]]:
    harnesses: list[Harness] = []

    def start(**options: Any) -> Harness:
        harnesses.append(Harness(**options))
        return harnesses[-1]

    yield start
    for h in harnesses:
        h.close()


@pytest.fixture
def h(serve: Callable[..., Harness]) -> Harness:
    return serve()


def request(
    h: Harness, path: str, method: str = "GET", body: bytes | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def raw(h: Harness, data: bytes) -> bytes:
    """Send ``data`` and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", h.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class SSEClient:
    """A raw-socket /events client; ``rcvbuf`` shrinks its receive buffer (a slow client)."""

    def __init__(self, port: int, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(
            b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        )
        self.file = self.sock.makefile("rb")
        self.status = self.file.readline().decode().strip()
        self.headers: dict[str, str] = {}
        while (line := self.file.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            self.headers[name.lower()] = value.strip()

    def next(self) -> dict[str, str] | None:
        """The next event's fields, or ``{"comment": ...}``; None at end of stream."""
        fields: dict[str, str] = {}
        while True:
            line = self.file.readline()
            if not line:
                return None
            text = line.decode().rstrip("\n")
            if text == "":
                if fields:
                    return fields
                continue
            if text.startswith(":"):
                return {"comment": text[1:].strip()}
            name, _, value = text.partition(": ")
            fields[name] = value

    def events(self, n: int) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        while len(out) < n:
            event = self.next()
            assert event is not None, f"stream ended after {out}"
            if "comment" not in event:
                out.append(event)
        return out

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def sse() -> Iterator[Callable[..., SSEClient]]:
    clients: list[SSEClient] = []

    def connect(port: int, rcvbuf: int | None = None) -> SSEClient:
        clients.append(SSEClient(port, rcvbuf))
        return clients[-1]

    yield connect
    for c in clients:
        c.close()


# --- health, status, metrics ------------------------------------------------------------------


def test_health_is_200_when_healthy_else_503(h):
    code, headers, body = request(h, "/health")
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"ok": True, "head": 100}
    h.healthy, h.details = False, {"reason": "no new head for 40 s", "head": 100}
    code, _, body = request(h, "/health")
    assert code == 503
    assert json.loads(body) == {"ok": False, "reason": "no new head for 40 s", "head": 100}


def test_health_check_that_raises_is_503(h):
    h.details = None  # not a mapping: building the health body fails
    code, _, body = request(h, "/health")
    assert code == 503 and json.loads(body)["ok"] is False
    h.details = {"head": 1}
    assert request(h, "/health")[0] == 200


def test_status_keeps_big_integers_exact(h):
    code, headers, body = request(h, "/status?pretty=0")
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert str(BIG).encode() in body
    assert json.loads(body) == {"head": 100, "realised_wei": BIG}


def test_status_failure_is_500_and_the_server_goes_on(h):
    def broken() -> Mapping[str, Any]:
        raise RuntimeError("store unavailable")

    h.status = broken
    code, _, body = request(h, "/status")
    assert code == 500 and b"store unavailable" not in body  # the cause goes to the log only
    assert "internal error" in json.loads(body)["error"]
    h.status = lambda: {"ok": 1}
    assert request(h, "/status")[2] == b'{"ok":1}'


def test_metrics_is_prometheus_text(h):
    h.metrics.detected("cyclic_arb", 3)
    h.metrics.submitted("flashbots", 0.003)
    h.metrics.block(123, 0.04)
    code, headers, body = request(h, "/metrics")
    assert code == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
    }
    assert (
        samples[("workbench_live_opportunities_detected_total", (("strategy", "cyclic_arb"),))] == 3
    )
    assert samples[("workbench_live_head_block", ())] == 123
    assert samples[("workbench_live_event_to_submission_seconds_count", ())] == 1


# --- events -----------------------------------------------------------------------------------


def test_two_clients_receive_every_event_in_order_with_ids(h, sse):
    a, b = sse(h.port), sse(h.port)
    assert a.status == "HTTP/1.1 200 OK"
    assert a.headers["content-type"] == "text/event-stream"
    assert a.headers["cache-control"] == "no-cache"
    assert h.clients() == 2
    for i in range(5):
        h.server.publish_threadsafe("bundle" if i % 2 else "block", {"i": i, "wei": BIG + i})
    for client in (a, b):
        events = client.events(5)
        assert [e["id"] for e in events] == ["1", "2", "3", "4", "5"]
        assert [e["event"] for e in events] == ["block", "bundle", "block", "bundle", "block"]
        assert [json.loads(e["data"]) for e in events] == [
            {"i": i, "wei": BIG + i} for i in range(5)
        ]
    assert h.call(h.server.publish, "block", {"i": 5}) == 6
    assert a.events(1) == [{"event": "block", "id": "6", "data": '{"i":5}'}]


def test_keepalive_comment_when_quiet(serve, sse):
    h = serve(keepalive_s=0.05)
    client = sse(h.port)
    assert client.next() == {"comment": "keep-alive"}
    h.server.publish_threadsafe("block", {"n": 1})
    assert client.events(1)[0]["data"] == '{"n":1}'


def test_slow_client_is_dropped_with_overflow_and_others_keep_receiving(serve, sse):
    h = serve(queue_size=32, close_timeout_s=TIMEOUT)
    slow = sse(h.port, rcvbuf=4096)
    fast = sse(h.port)
    received: list[dict[str, str]] = []

    def read_fast() -> None:
        while (event := fast.next()) is not None:
            if "comment" not in event:
                received.append(event)
                if event["event"] == "done":
                    return

    reader = threading.Thread(target=read_fast)
    reader.start()

    async def publish_until_slow_dropped() -> int:
        pad = "x" * 4096
        for i in range(10_000):
            h.server.publish("tick", {"i": i, "pad": pad})
            if i % 2:
                await asyncio.sleep(0.002)  # the fast reader keeps up with 4 KB per ms
                if h.server.sse_clients == 1:
                    return i + 1
        raise AssertionError("the slow client was never dropped")

    dropped_after = h.run(publish_until_slow_dropped())
    for i in range(3):
        h.server.publish_threadsafe("tick", {"i": dropped_after + i})
    h.server.publish_threadsafe("done", {})
    reader.join(TIMEOUT)
    total = dropped_after + 4
    assert [int(e["id"]) for e in received] == list(range(1, total + 1))
    assert received[-1]["event"] == "done"

    slow_events = []
    while (event := slow.next()) is not None:
        slow_events.append(event)
    assert slow_events[-1]["event"] == "overflow"
    assert json.loads(slow_events[-1]["data"])["queue_size"] == 32
    ids = [int(e["id"]) for e in slow_events[:-1]]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) < dropped_after


def test_a_client_that_hangs_up_is_forgotten(h, sse):
    client = sse(h.port)
    assert h.clients() == 1
    client.close()
    until(lambda: h.clients() == 0, "the server to notice the hang-up")
    assert h.call(h.server.publish, "block", {}) == 1


def test_stop_closes_every_stream(h, sse):
    a, b = sse(h.port), sse(h.port)
    h.server.publish_threadsafe("block", {"n": 1})
    assert a.events(1)[0]["id"] == "1"
    started = time.monotonic()
    h.run(h.server.stop())
    assert time.monotonic() - started < 1.0
    assert a.next() is None
    assert b.events(1)[0]["id"] == "1" and b.next() is None
    assert h.clients() == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", h.port), timeout=TIMEOUT)


def test_publish_rejects_a_kind_that_would_break_the_stream(h):
    for kind in ("", "two words", "new\nline", "a:b"):
        with pytest.raises(ValueError, match="event kind"):
            h.server.publish_threadsafe(kind, {})


def test_async_context_manager():
    metrics = LiveMetrics()

    async def scenario() -> bytes:
        server = StatusServer(metrics=metrics, status=dict, health=lambda: (True, {}))
        async with server:
            assert server.url == f"http://127.0.0.1:{server.port}"
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            answer = await reader.read()
            writer.close()
        with pytest.raises(RuntimeError, match="not running"):
            _ = server.url
        return answer

    answer = asyncio.run(scenario())
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b'{"ok":true}')


# --- bad requests -----------------------------------------------------------------------------


def test_unknown_path_is_404_and_wrong_method_405(h):
    code, _, body = request(h, "/nope")
    assert code == 404 and json.loads(body)["routes"] == [
        "/events",
        "/health",
        "/metrics",
        "/status",
    ]
    code, headers, body = request(h, "/status", method="POST", body=b'{"x": 1}')
    assert code == 405 and headers["Allow"] == "GET"
    assert json.loads(body)["allow"] == ["GET"]
    assert request(h, "/events", method="DELETE")[0] == 405


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/2.0\r\n\r\n",
        b"GET health HTTP/1.1\r\n\r\n",
        b"get /health HTTP/1.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"GET /health HTTP/1.1\r\nContent-Length: lots\r\n\r\n",
        b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        b"\xff\xfe\x00 binary \x00\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\n",  # the client stops before the blank line
    ],
    ids=["garbage", "version", "target", "method", "header", "length", "too-big", "binary", "cut"],
)
def test_malformed_request_is_400_and_the_server_goes_on(h, data):
    with socket.create_connection(("127.0.0.1", h.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert "error" in json.loads(body)
    assert request(h, "/health")[0] == 200


def test_silent_client_times_out_with_408_and_hang_ups_are_harmless(serve):
    h = serve(request_timeout_s=0.1)
    for _ in range(3):  # connect and leave without a byte
        socket.create_connection(("127.0.0.1", h.port), timeout=TIMEOUT).close()
    assert raw(h, b"GET /hea").startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert raw(h, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startswith(
        b"HTTP/1.1 200 OK\r\n"
    )


# --- abuse ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "code"),
    [
        (b"127.0.0.1", 200),
        (b"localhost:9464", 200),
        (b"[::1]:9464", 200),
        (b"evil.example:9464", 403),  # a page on a rebound name: refused
        (b"127.0.0.1.evil.example", 403),
        (None, 403),
    ],
)
def test_only_requests_naming_this_host_are_served(h, host, code):
    head = b"GET /status HTTP/1.1\r\n" + (b"Host: " + host + b"\r\n" if host else b"") + b"\r\n"
    answer = raw(h, head)
    assert answer.startswith(b"HTTP/1.1 %d " % code), answer[:80]
    if code == 403:
        assert str(BIG).encode() not in answer and b"not this server's" in answer


def test_a_flood_of_connections_and_event_streams_is_capped(serve, sse):
    h = serve(max_connections=8, max_sse_clients=3, request_timeout_s=3.0)
    streams = [sse(h.port) for _ in range(3)]
    assert all(s.status == "HTTP/1.1 200 OK" for s in streams)
    fourth = sse(h.port)  # one stream too many
    assert fourth.status == "HTTP/1.1 503 Service Unavailable"
    idle = [socket.create_connection(("127.0.0.1", h.port), timeout=TIMEOUT) for _ in range(5)]
    try:
        until(lambda: h.call(lambda: len(h.server._tasks)) >= 8, "eight connections")
        answer = raw(h, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503 ") and b"too many connections" in answer
    finally:
        for sock in idle:
            sock.close()
    until(lambda: h.call(lambda: len(h.server._tasks)) <= 3, "the idle ones to go")
    assert request(h, "/health")[0] == 200  # served again once they left
    h.server.publish_threadsafe("block", {"n": 1})
    assert all(s.events(1)[0]["data"] == '{"n":1}' for s in streams)
