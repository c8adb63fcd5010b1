"""HTTP transport: one persistent keep-alive connection per endpoint (stdlib http.client).

The whole interface is ``post(body) -> bytes``; failures raise ``TransportFault`` saying
whether a retry may help.
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class TransportFault(Exception):
    """One failed attempt: what happened, and whether retrying (here or elsewhere) may help."""

    reason: str
    retryable: bool
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.reason


class HttpTransport:
    """POSTs JSON bodies to one URL over a reused connection."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an HTTP(S) URL: {url!r}")
        self.url = url
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._conn: http.client.HTTPConnection | None = None
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> bytes:
        conn = self._connection()
        try:
            conn.request("POST", self._path, body, {**self._headers, **(headers or {})})
            resp = conn.getresponse()
            data = resp.read()
        except (TimeoutError, socket.timeout):
            self.close()
            raise TransportFault(f"timed out after {self.timeout:g}s", retryable=True) from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportFault(f"connection failed: {exc.__class__.__name__}: {exc}", retryable=True) from None
        if resp.status != 200:
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            retry_after = _retry_after(resp.getheader("Retry-After"))
            retryable = resp.status == 429 or resp.status >= 500
            raise TransportFault(f"HTTP {resp.status} {resp.reason}: {data[:200]!r}", retryable, retry_after)
        if resp.will_close:
            self.close()
        return data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
