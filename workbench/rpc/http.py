"""HTTP transport: one persistent keep-alive connection per endpoint (stdlib http.client).

The whole interface is ``post(body) -> bytes``; every failure raises ``TransportFault`` saying
whether a retry may help (timeouts, dropped connections, 429 and 5xx may; other statuses not).
"""

from __future__ import annotations

import http.client
import select
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from workbench.errors import ConfigError
from workbench.rpc.retry import TransportFault

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """Where an HTTP(S) URL points: scheme, host, port and the path (with its query) to POST."""

    https: bool
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str, kind: str, example: str) -> HttpTarget:
        """``url`` checked; a ``ConfigError`` naming ``kind`` and ``example`` otherwise."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"not an HTTP(S) {kind} URL: {url!r}; use e.g. {example}")
        https = parts.scheme == "https"
        return cls(
            https=https,
            host=parts.hostname,
            port=parts.port or (443 if https else 80),
            path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        )

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        """A new, not yet connected, connection to it."""
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=timeout)


class HttpTransport:
    """POSTs JSON bodies to one URL over a reused connection per thread (a live runner's head
    poller and its block fetches share one client from different threads); ``timeout`` is per
    socket operation."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._endpoint = HttpTarget.parse(url, "RPC", "http://127.0.0.1:8545")
        self.url = url
        self.timeout = timeout
        self._local = threading.local()  # this thread's (connection, poll) or nothing
        self._lock = threading.Lock()
        self._open_conns: set[http.client.HTTPConnection] = set()

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's connection: reused while the server keeps it, else a new one."""
        kept: tuple[http.client.HTTPConnection, select.poll | None] | None = getattr(
            self._local, "kept", None
        )
        # An idle keep-alive socket is readable only if the server closed it (or sent junk):
        # reconnect before sending rather than lose the request to a half-closed connection.
        if kept is not None and kept[0] in self._open_conns:  # not closed by ``close``
            kept_conn, kept_poll = kept
            if kept_poll is None or not kept_poll.poll(0):
                return kept_conn
        self._drop()
        conn = self._endpoint.connection(self.timeout)
        conn.connect()
        poll = None
        if conn.sock is not None:  # None under HTTP recorders such as vcrpy
            poll = select.poll()
            poll.register(conn.sock, select.POLLIN)
        self._local.kept = (conn, poll)
        with self._lock:
            self._open_conns.add(conn)
        return conn

    def _drop(self) -> None:
        """Closes this thread's connection (after a failure, or when the server closes it)."""
        kept = getattr(self._local, "kept", None)
        if kept is not None:
            self._local.kept = None
            with self._lock:
                self._open_conns.discard(kept[0])
            kept[0].close()

    def post(self, body: bytes) -> bytes:
        try:
            conn = self._connection()
            conn.request("POST", self._endpoint.path, body, _HEADERS)
            resp = conn.getresponse()
            data = resp.read()
        except TimeoutError:
            self._drop()
            raise TransportFault(f"no reply within {self.timeout:g}s (timeout)") from None
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            detail = str(exc) or "connection closed without a reply"
            raise TransportFault(f"connection failed: {type(exc).__name__}: {detail}") from None
        if getattr(resp, "will_close", True):
            self._drop()
        if resp.status != 200:
            retryable = resp.status == 429 or resp.status >= 500
            raise TransportFault(
                f"HTTP {resp.status} {resp.reason}: {data[:120]!r}",
                retryable,
                _retry_after(resp.getheader("Retry-After")),
            )
        return data

    def reset(self) -> None:
        """Drops this thread's connection: the next request starts on a new one."""
        self._drop()

    def close(self) -> None:
        """Closes every thread's connection."""
        self._drop()
        with self._lock:
            conns, self._open_conns = self._open_conns, set()
        for conn in conns:
            conn.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the HTTP-date form is ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
