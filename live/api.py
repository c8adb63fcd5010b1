"""The live runner's HTTP API: health, status, Prometheus metrics and a Server-Sent-Events feed.

A small HTTP/1.1 server on asyncio streams (one request per connection, ``Connection: close``):

- ``GET /health``: 200 with the health callable's JSON when healthy, else 503;
- ``GET /status``: 200 with the status callable's JSON (integers stay exact, wei included);
- ``GET /metrics``: the Prometheus text exposition of a ``LiveMetrics``;
- ``GET /events``: ``text/event-stream``; every ``publish(kind, data)`` reaches every client as
  ``event: <kind>`` / ``id: <n>`` / ``data: <compact JSON>``, with a comment line after each
  ``keepalive_s`` of silence.

The runner never waits on a client: each SSE client has a queue of at most ``queue_size``
events, and a client whose queue is full is sent a final ``event: overflow`` and disconnected.
At most ``max_connections`` connections and ``max_sse_clients`` event streams are served at
once; beyond, a 503. A request must name the server in its ``Host`` header (127.0.0.1,
localhost, ::1 or the host it listens on): a web page cannot reach it by DNS rebinding (403).
A bad request gets a 400/404/405 JSON answer, a failing callable a 500 that says no more than
that (the cause is in the runner's log); nothing a client does stops the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import orjson

from live.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from live.metrics import LiveMetrics

__all__ = ["StatusServer", "json_bytes"]

log = logging.getLogger(__name__)

ROUTES = ("/events", "/health", "/metrics", "/status")
_JSON = "application/json"
_METHOD = re.compile(r"[A-Z]{1,16}")
_VERSION = re.compile(r"HTTP/1\.[01]")
_DIGITS = re.compile(r"[0-9]{1,18}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_BODY = 65_536


class _BadRequest(Exception):
    """The request cannot be parsed; answered with 400 and the message."""


@dataclass(eq=False)
class _Client:
    """One SSE connection: its pending frames, and a flag once it is being closed."""

    writer: asyncio.StreamWriter
    frames: deque[bytes] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False


def json_bytes(value: Any) -> bytes:
    """Compact JSON; integers of any size stay exact (orjson, stdlib ``json`` past 64 bits)."""
    try:
        return orjson.dumps(value, default=_plain, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=_plain, separators=(",", ":"), ensure_ascii=False).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class StatusServer:
    """Serves ``/health``, ``/status``, ``/metrics`` and ``/events`` on ``host``:``port``.

    ``status()`` returns the JSON of ``/status``; ``health()`` returns ``(ok, details)``. Both
    are called on the event loop for each request, so they must be quick and not block.
    ``port=0`` picks a free port; ``start()`` returns it. A client that does not read its
    events is closed by force ``close_timeout_s`` after its final frame; ``stop()`` waits at
    most that long for connections to end, then cancels them.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        metrics: LiveMetrics,
        status: Callable[[], Mapping[str, Any]],
        health: Callable[[], tuple[bool, Mapping[str, Any]]],
        keepalive_s: float = 15.0,
        queue_size: int = 1000,
        request_timeout_s: float = 10.0,
        close_timeout_s: float = 2.0,
        max_header_bytes: int = 16_384,
        max_connections: int = 64,
        max_sse_clients: int = 16,
    ) -> None:
        if queue_size < 1 or keepalive_s <= 0 or request_timeout_s <= 0 or close_timeout_s < 0:
            raise ValueError(
                "queue_size must be >= 1, keepalive_s and request_timeout_s > 0, "
                "close_timeout_s >= 0"
            )
        self.host = host
        self.port = port
        self.metrics = metrics
        self._status = status
        self._health = health
        self.keepalive_s = keepalive_s
        self.queue_size = queue_size
        self.request_timeout_s = request_timeout_s
        self.close_timeout_s = close_timeout_s
        self.max_header_bytes = max_header_bytes
        self.max_connections = max_connections
        self.max_sse_clients = max_sse_clients
        self.allowed_hosts = frozenset({"127.0.0.1", "localhost", "::1", host.lower()})
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[_Client] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_id = 0

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("StatusServer is not running; await start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def sse_clients(self) -> int:
        """How many ``/events`` clients are connected."""
        return len(self._clients)

    async def start(self) -> int:
        """Listen, and return the bound port."""
        if self._server is not None:
            raise RuntimeError("StatusServer is already running")
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, limit=self.max_header_bytes
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening, close every SSE stream and end every connection (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for client in list(self._clients):
            self._close(client, b"")
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.close_timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> StatusServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def publish(self, kind: str, data: Mapping[str, Any]) -> int:
        """Queue an event for every SSE client and return its id. Never blocks.

        Call it on the event loop's thread (from another thread, use ``publish_threadsafe``).
        """
        return self._broadcast(_check_kind(kind), json_bytes(data))

    def publish_threadsafe(self, kind: str, data: Mapping[str, Any]) -> None:
        """``publish`` from any thread: ``data`` is encoded now, sent from the loop soon after."""
        if self._loop is None:
            raise RuntimeError("StatusServer has no event loop yet; await start() first")
        kind, payload = _check_kind(kind), json_bytes(data)
        self._loop.call_soon_threadsafe(self._broadcast, kind, payload)

    def _broadcast(self, kind: str, payload: bytes) -> int:
        self._last_id += 1
        frame = b"event: %s\nid: %d\ndata: %s\n\n" % (kind.encode(), self._last_id, payload)
        for client in list(self._clients):
            if len(client.frames) >= self.queue_size:
                overflow = {"reason": "client fell behind", "queue_size": self.queue_size}
                self._close(client, b"event: overflow\ndata: %s\n\n" % json_bytes(overflow))
            else:
                client.frames.append(frame)
                client.wake.set()
        return self._last_id

    def _close(self, client: _Client, final: bytes) -> None:
        """Write ``final`` after the frames already written, close, abort if it never flushes."""
        if client.closed:
            return
        client.closed = True
        client.frames.clear()
        client.wake.set()
        self._clients.discard(client)
        transport = client.writer.transport
        if not transport.is_closing():
            if final:
                client.writer.write(final)
            transport.close()
        asyncio.get_running_loop().call_later(self.close_timeout_s, transport.abort)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        full = len(self._tasks) >= self.max_connections
        self._tasks.add(task)
        try:
            if full:  # what the client sent is read (briefly) so that closing does not reset
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.read(self.max_header_bytes), timeout=0.05)
                error = {"error": f"too many connections (at most {self.max_connections})"}
                await _respond(writer, HTTPStatus.SERVICE_UNAVAILABLE, error)
                return
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except Exception:
            log.exception("status API: error while serving a request")
        finally:
            self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path, host = await asyncio.wait_for(
                _read_request(reader), timeout=self.request_timeout_s
            )
        except _BadRequest as exc:
            await _respond(writer, HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        except TimeoutError:
            await _respond(writer, HTTPStatus.REQUEST_TIMEOUT, {"error": "request timed out"})
            return
        if host is None or _host_name(host) not in self.allowed_hosts:
            refused = {"error": f"Host {host!r} is not this server's; use http://127.0.0.1:PORT"}
            await _respond(writer, HTTPStatus.FORBIDDEN, refused)
            return
        if path not in ROUTES:
            await _respond(writer, HTTPStatus.NOT_FOUND, {"error": "not found", "routes": ROUTES})
            return
        if method != "GET":
            error = {"error": f"method {method} not allowed", "allow": ["GET"]}
            await _respond(writer, HTTPStatus.METHOD_NOT_ALLOWED, error, [("Allow", "GET")])
            return
        if path == "/events" and len(self._clients) >= self.max_sse_clients:
            busy = {"error": f"too many event streams (at most {self.max_sse_clients})"}
            await _respond(writer, HTTPStatus.SERVICE_UNAVAILABLE, busy)
        elif path == "/events":
            await self._stream(reader, writer)
        elif path == "/metrics":
            await _respond_raw(
                writer, HTTPStatus.OK, METRICS_CONTENT_TYPE, self.metrics.exposition()
            )
        else:
            code, body = self._status_body() if path == "/status" else self._health_body()
            await _respond_raw(writer, code, _JSON, body)

    def _status_body(self) -> tuple[HTTPStatus, bytes]:
        try:
            return HTTPStatus.OK, json_bytes(self._status())
        except Exception:
            log.exception("status API: the status callable failed")
            error = {"error": "internal error; the cause is in the runner's log"}
            return HTTPStatus.INTERNAL_SERVER_ERROR, json_bytes(error)

    def _health_body(self) -> tuple[HTTPStatus, bytes]:
        try:
            ok, details = self._health()
            body = json_bytes({"ok": bool(ok), **{k: v for k, v in details.items() if k != "ok"}})
        except Exception:
            log.exception("status API: the health callable failed")
            reason = "health check failed; the cause is in the runner's log"
            ok, body = False, json_bytes({"ok": False, "reason": reason})
        return (HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE), body

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.add(client)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Connection: close\r\nX-Accel-Buffering: no\r\n\r\n"
        )
        watch = asyncio.create_task(self._watch_eof(reader, client))
        try:
            while not client.closed:
                if not client.frames:
                    client.wake.clear()
                    try:
                        await asyncio.wait_for(client.wake.wait(), timeout=self.keepalive_s)
                    except TimeoutError:
                        writer.write(b": keep-alive\n\n")
                    if client.closed:
                        break
                batch = b"".join(client.frames)
                client.frames.clear()
                if batch:
                    writer.write(batch)
                await writer.drain()
        finally:
            watch.cancel()
            self._clients.discard(client)
            if not client.closed:
                self._close(client, b"")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=self.close_timeout_s)

    async def _watch_eof(self, reader: asyncio.StreamReader, client: _Client) -> None:
        """Close the stream as soon as the client hangs up (bytes it sends are ignored)."""
        with contextlib.suppress(Exception):
            while await reader.read(4096):
                pass
        self._close(client, b"")


def _check_kind(kind: str) -> str:
    if not _TOKEN.fullmatch(kind):
        raise ValueError(f"event kind {kind!r} must be a non-empty token such as 'bundle'")
    return kind


def _host_name(host: str) -> str:
    """A ``Host`` header's name without its port (``[::1]:9464`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, str | None]:
    """The method, path and ``Host`` of one request; its body, if small, is read and dropped."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise _BadRequest("request head too large") from None
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise
        raise _BadRequest("incomplete request head") from None
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _METHOD.fullmatch(parts[0]) or not _VERSION.fullmatch(parts[2]):
        raise _BadRequest(f"bad request line {lines[0][:100]!r}")
    method, target, _ = parts
    if not target.startswith(("/", "http://", "https://")):
        raise _BadRequest(f"bad request target {target[:100]!r}")
    length, host = 0, None
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise _BadRequest(f"bad header line {line[:100]!r}")
        if name.lower() == "content-length":
            if not _DIGITS.fullmatch(value.strip()):
                raise _BadRequest(f"bad Content-Length {value.strip()[:40]!r}")
            length = int(value)
        elif name.lower() == "host":
            host = value.strip()
    if 0 < length <= _MAX_BODY:
        await reader.readexactly(length)
    return method, urlsplit(target).path or "/", host


async def _respond(
    writer: asyncio.StreamWriter,
    status: HTTPStatus,
    body: Any,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    await _respond_raw(writer, status, _JSON, json_bytes(body), headers)


async def _respond_raw(
    writer: asyncio.StreamWriter,
    status: HTTPStatus,
    content_type: str,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    lines = [
        f"HTTP/1.1 {status.value} {status.phrase}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers or ()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
