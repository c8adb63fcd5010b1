"""The lean synchronous JSON-RPC client used on hot paths (web3.py is kept for ABIs).

Each request goes to the first endpoint, in the order given, whose circuit breaker lets it
through. A faulty attempt (transport error, timeout, 429, 5xx, malformed reply, wrong id)
fails over at once to the next endpoint; when every usable endpoint has failed in this
round, the client backs off and starts a new round, up to ``RetryPolicy.max_attempts``
attempts in all. A JSON-RPC error reply is the node's answer and is never retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from workbench.errors import ConfigError, RpcError, RpcTransportError
from workbench.rpc.breaker import BreakerPolicy, CircuitBreaker
from workbench.rpc.codec import (
    Call,
    MalformedResponse,
    decode,
    decode_batch,
    encode,
    encode_batch,
)
from workbench.rpc.http import HttpTransport
from workbench.rpc.redact import redact_url
from workbench.rpc.retry import RetryPolicy, TransportFault

T = TypeVar("T")


class Endpoint:
    """One node URL: its transport and its circuit breaker."""

    __slots__ = ("breaker", "transport", "url")

    def __init__(self, url: str, transport: HttpTransport, breaker: CircuitBreaker) -> None:
        self.url = url
        self.transport = transport
        self.breaker = breaker

    def __repr__(self) -> str:
        return f"Endpoint({redact_url(self.url)!r}, {self.breaker.state.value})"


class RpcClient:
    """JSON-RPC over HTTP with persistent connections, retries and failover.

    ``call`` returns the result or raises ``RpcError``; ``batch`` sends many calls in one
    request and returns results in order, with ``RpcError`` instances in place of failed calls.
    Both raise ``RpcTransportError`` (listing every attempt) when no endpoint answered.
    ``clock``, ``sleep`` and ``rng`` are injectable for fast, deterministic tests.
    Not thread-safe: use one client per thread.
    """

    def __init__(
        self,
        url_or_urls: str | Sequence[str],
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        urls = [url_or_urls] if isinstance(url_or_urls, str) else list(url_or_urls)
        if not urls:
            raise ConfigError(
                "RpcClient needs at least one URL, e.g. RpcClient('http://127.0.0.1:8545')"
            )
        breaker = breaker or BreakerPolicy()
        self.endpoints = tuple(
            Endpoint(u, HttpTransport(u, timeout), CircuitBreaker(breaker, clock)) for u in urls
        )
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng
        self._next_id = 1

    @property
    def url(self) -> str:
        """The primary (first) endpoint URL."""
        return self.endpoints[0].url

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(e.url for e in self.endpoints)

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        rid = self._next_id
        self._next_id = rid + 1
        result = self._exchange(
            encode(method, params, rid), method, lambda b: decode(b, rid, method)
        )
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(self, calls: Sequence[Call]) -> list[Any]:
        n = len(calls)
        if not n:
            return []
        first = self._next_id
        self._next_id = first + n
        label = f"batch of {n} ({calls[0][0]}, ...)"
        out = self._exchange(
            encode_batch(calls, first), label, lambda b: decode_batch(b, calls, first)
        )
        if isinstance(out, RpcError):
            raise out  # the node rejected the batch as a whole (e.g. too large)
        return out

    def _pick(self, tried: list[Endpoint], skip: list[Endpoint]) -> Endpoint | None:
        for ep in self.endpoints:
            if ep.breaker.allows() and ep not in tried and ep not in skip:
                return ep
        return None

    def _exchange(self, body: bytes, label: str, parse: Callable[[bytes], T]) -> T:
        attempts: list[str] = []
        tried: list[Endpoint] = []  # endpoints tried in this round
        skip: list[Endpoint] = []  # endpoints whose fault a retry cannot fix
        retry_after: float | None = None
        rounds = 0
        while len(attempts) < self.retry.max_attempts:
            ep = self._pick(tried, skip)
            if ep is None:
                if not tried or self._pick([], skip) is None:
                    break  # every endpoint is open-circuit or skipped: waiting will not help now
                self._sleep(self.retry.delay(rounds, self._rng, retry_after))
                rounds += 1
                tried.clear()
                retry_after = None
                continue
            tried.append(ep)
            try:
                result = parse(ep.transport.post(body))
            except TransportFault as fault:
                if not fault.retryable:
                    skip.append(ep)
                if fault.retry_after is not None:
                    retry_after = max(retry_after or 0.0, fault.retry_after)
                attempts.append(f"{redact_url(ep.url)}: {fault}")
            except MalformedResponse as exc:
                ep.transport.reset()  # the stream may be out of step; start clean next time
                attempts.append(f"{redact_url(ep.url)}: malformed reply: {exc}")
            else:
                ep.breaker.record_success()
                return result
            ep.breaker.record_failure()
        raise self._give_up(label, attempts)

    def _give_up(self, label: str, attempts: list[str]) -> RpcTransportError:
        blocked = [e for e in self.endpoints if not e.breaker.allows()]
        circuits = "; ".join(
            f"circuit open for {redact_url(e.url)} after {e.breaker.failures} consecutive failures, "
            f"next probe in {e.breaker.retry_in():.1f}s"
            for e in blocked
        )
        if not attempts:
            return RpcTransportError(
                f"{label}: no endpoint available ({circuits}); check the node(s) or add a fallback URL"
            )
        where = ", ".join(self.urls)
        return RpcTransportError(
            f"{label} failed after {len(attempts)} attempt(s) on {where}"
            + (f" ({circuits})" if circuits else "")
            + "; check that the node is up and reachable, or add a fallback URL",
            attempts,
        )

    def close(self) -> None:
        for ep in self.endpoints:
            ep.transport.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
