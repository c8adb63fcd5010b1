"""HTTP for relays: POST a body with per-request headers over pooled keep-alive connections.

Like ``workbench.rpc.http.HttpTransport`` (stdlib http.client) but with headers per
request (the signature changes with every body), a status that is returned rather than raised
(a relay's 4xx carries its reason), and a small pool so concurrent fan-outs can share a relay.
Only timeouts and connection failures raise ``TransportFault``.
"""

from __future__ import annotations

import http.client
import select
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from workbench.rpc.http import HttpTarget
from workbench.rpc.retry import TransportFault

__all__ = ["RelayTransport", "Reply"]

_BASE_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    retry_after: float | None = None


class RelayTransport:
    """POSTs to one URL; ``timeout`` bounds each socket operation (connect, send, read)."""

    def __init__(self, url: str, timeout: float = 2.0, max_idle: int = 4) -> None:
        self._endpoint = HttpTarget.parse(url, "relay", "http://127.0.0.1:8547")
        self.url = url
        self.timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []
        self._max_idle = max_idle
        self._lock = threading.Lock()

    def _take(self) -> http.client.HTTPConnection:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                # An idle keep-alive socket is readable only if the server closed it: drop it.
                if conn.sock is not None and not select.select([conn.sock], [], [], 0)[0]:
                    return conn
                conn.close()
        return self._endpoint.connection(self.timeout)

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def post(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        conn = self._take()
        try:
            conn.request("POST", self._endpoint.path, body, {**_BASE_HEADERS, **headers})
            resp = conn.getresponse()
            data = resp.read()
        except TimeoutError:
            conn.close()
            raise TransportFault(f"no reply within {self.timeout:g}s (timeout)") from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            detail = str(exc) or "connection closed without a reply"
            raise TransportFault(f"connection failed: {type(exc).__name__}: {detail}") from None
        if resp.will_close:
            conn.close()
        else:
            self._give_back(conn)
        return Reply(resp.status, data, _retry_after(resp.getheader("Retry-After")))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the HTTP-date form is ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
