"""HTTP transport: one persistent keep-alive connection per endpoint (stdlib http.client).

The whole interface is ``post(body) -> bytes``; every failure raises ``TransportFault`` saying
whether a retry may help (timeouts, dropped connections, 429 and 5xx may; other statuses not).
"""

from __future__ import annotations

import http.client
import select
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
    """POSTs JSON bodies to one URL over a reused connection; ``timeout`` is per socket operation."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._endpoint = HttpTarget.parse(url, "RPC", "http://127.0.0.1:8545")
        self.url = url
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._poll: select.poll | None = None

    def _open(self) -> http.client.HTTPConnection:
        conn = self._endpoint.connection(self.timeout)
        conn.connect()
        self._poll = None
        if conn.sock is not None:  # None under HTTP recorders such as vcrpy
            self._poll = select.poll()
            self._poll.register(conn.sock, select.POLLIN)
        self._conn = conn
        return conn

    def _stale(self) -> bool:
        # An idle keep-alive socket is readable only if the server closed it (or sent junk):
        # reconnect before sending rather than lose the request to a half-closed connection.
        return self._poll is not None and bool(self._poll.poll(0))

    def post(self, body: bytes) -> bytes:
        try:
            conn = self._conn
            if conn is None or self._stale():
                self.close()
                conn = self._open()
            conn.request("POST", self._endpoint.path, body, _HEADERS)
            resp = conn.getresponse()
            data = resp.read()
        except TimeoutError:
            self.close()
            raise TransportFault(f"no reply within {self.timeout:g}s (timeout)") from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            detail = str(exc) or "connection closed without a reply"
            raise TransportFault(f"connection failed: {type(exc).__name__}: {detail}") from None
        if getattr(resp, "will_close", True):
            self.close()
        if resp.status != 200:
            retryable = resp.status == 429 or resp.status >= 500
            raise TransportFault(
                f"HTTP {resp.status} {resp.reason}: {data[:120]!r}",
                retryable,
                _retry_after(resp.getheader("Retry-After")),
            )
        return data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._poll = None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the HTTP-date form is ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
