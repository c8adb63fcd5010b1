"""Async JSON-RPC over WebSocket: calls and ``eth_subscribe`` streams that survive reconnects.

One background task owns the connection: it reads every message, resolves pending calls by
id and routes notifications to their subscription. When the connection drops it reconnects
with backoff (rotating through the URLs given) and re-subscribes every live subscription;
calls in flight are retried on the new connection. Notifications the node emitted while the
client was disconnected are lost: consumers that need continuity check block numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from workbench.errors import ConfigError, RpcError, RpcTransportError
from workbench.rpc.codec import (
    MalformedResponse,
    encode,
    loads,
    notification,
    result_or_error,
)
from workbench.rpc.retry import RetryPolicy, TransportFault
from workbench.rpc.subscription import Subscription

log = logging.getLogger(__name__)

_MAX_MESSAGE = 64 * 2**20  # full blocks and pending-tx streams exceed websockets' 1 MiB default


class WsClient:
    """JSON-RPC over one WebSocket connection; ``async with WsClient(url) as ws: ...``.

    ``retry`` bounds each call's attempts (timeouts, drops); ``reconnect`` bounds consecutive
    failed connection attempts before the client gives up and fails every waiter.
    """

    def __init__(
        self,
        url_or_urls: str | Sequence[str],
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        reconnect: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        urls = [url_or_urls] if isinstance(url_or_urls, str) else list(url_or_urls)
        if not urls or not all(u.startswith(("ws://", "wss://")) for u in urls):
            raise ConfigError(f"WsClient needs ws:// or wss:// URLs, got {urls!r}")
        self.urls = tuple(urls)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.reconnect = reconnect or RetryPolicy(max_attempts=10, base_delay=0.1, max_delay=5.0)
        self._sleep = sleep
        self._rng = rng
        self._ws: ClientConnection | None = None
        self._url = urls[0]
        self._wake = asyncio.Event()  # set when connected, failed or closed
        self._runner: asyncio.Task[None] | None = None
        self._failure: RpcTransportError | None = None
        self._closed = False
        self._next_id = 1
        # request id -> (future of a call, or None for a re-subscribe; its subscription; method)
        self._pending: dict[int, tuple[asyncio.Future[Any] | None, Subscription | None, str]] = {}
        self._subs: dict[str, Subscription] = {}  # node subscription id -> subscription
        self._live: list[Subscription] = []  # re-subscribed after every reconnect

    async def connect(self) -> WsClient:
        """Start the connection task and wait until connected (or raise ``RpcTransportError``)."""
        await self._connection()
        return self

    async def __aenter__(self) -> WsClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """The result, or raises ``RpcError`` (node's answer) / ``RpcTransportError``."""
        return await self._request(method, params, None)

    async def subscribe(self, kind: str, *params: Any) -> Subscription:
        """``eth_subscribe(kind, *params)``, e.g. ``subscribe("newPendingTransactions", True)``."""
        sub = Subscription(kind, params, self._unsubscribe)
        await self._request("eth_subscribe", (kind, *params), sub)
        return sub

    async def _connection(self) -> ClientConnection:
        if self._runner is None and not self._closed:
            self._runner = asyncio.create_task(self._run(), name=f"WsClient({self._url})")
        while True:
            if self._failure is not None:
                raise self._failure
            if self._closed:
                raise RpcTransportError(f"WsClient for {self._url} is closed; create a new one")
            if self._ws is not None:
                return self._ws
            self._wake.clear()
            await self._wake.wait()

    async def _request(self, method: str, params: Sequence[Any], sub: Subscription | None) -> Any:
        attempts: list[str] = []
        loop = asyncio.get_running_loop()
        for attempt in range(self.retry.max_attempts):
            if attempt:
                await self._sleep(self.retry.delay(attempt - 1, self._rng))
            ws = await self._connection()
            rid = self._next_id
            self._next_id = rid + 1
            fut: asyncio.Future[Any] = loop.create_future()
            self._pending[rid] = (fut, sub, method)
            try:
                await ws.send(encode(method, params, rid), text=True)
                value = await asyncio.wait_for(fut, self.timeout)
            except TimeoutError:
                attempts.append(f"{self._url}: no reply within {self.timeout:g}s (timeout)")
            except (ConnectionClosed, TransportFault) as exc:
                attempts.append(f"{self._url}: connection dropped ({exc})")
            else:
                if isinstance(value, RpcError):
                    raise value
                return value
            finally:
                self._pending.pop(rid, None)
        raise RpcTransportError(
            f"{method} over WebSocket failed after {len(attempts)} attempt(s); "
            "check that the node is up, or raise timeout / RetryPolicy.max_attempts",
            attempts,
        )

    async def _unsubscribe(self, sub: Subscription) -> None:
        if sub in self._live:
            self._live.remove(sub)
        sub.end()
        sid, sub.id = sub.id, None
        if sid is not None and self._subs.pop(sid, None) is not None and self._ws is not None:
            with contextlib.suppress(RpcTransportError):  # if the connection is gone, so is it
                await self.call("eth_unsubscribe", (sid,))

    async def _run(self) -> None:
        """Connect, serve, and reconnect with backoff until closed or out of attempts."""
        failures: list[str] = []
        index = 0
        while not self._closed:
            if failures:
                if len(failures) >= self.reconnect.max_attempts:
                    self._fail(failures)
                    return
                await self._sleep(self.reconnect.delay(len(failures) - 1, self._rng))
            self._url = self.urls[index % len(self.urls)]
            try:
                ws = await connect(
                    self._url,
                    open_timeout=self.timeout,
                    max_size=_MAX_MESSAGE,
                    compression=None,  # co-located node: latency over bandwidth
                    proxy=None,
                )
            except (OSError, TimeoutError, WebSocketException) as exc:
                failures.append(f"{self._url}: could not connect: {type(exc).__name__}: {exc}")
                index += 1
                continue
            started = asyncio.get_running_loop().time()
            reason, heard = await self._serve(ws)
            # a connection that worked resets the count; one dropped at once counts as a failure
            if heard or asyncio.get_running_loop().time() - started >= self.timeout:
                failures.clear()
            failures.append(f"{self._url}: {reason}")
            log.warning("WebSocket to %s dropped (%s); reconnecting", self._url, reason)

    async def _serve(self, ws: ClientConnection) -> tuple[str, bool]:
        """Read until the connection ends; returns why, and whether any message arrived."""
        self._ws = ws
        self._wake.set()
        heard = False
        try:
            for sub in list(self._live):
                rid = self._next_id
                self._next_id = rid + 1
                self._pending[rid] = (None, sub, "eth_subscribe")
                await ws.send(encode("eth_subscribe", (sub.kind, *sub.params), rid), text=True)
            while True:
                self._dispatch(loads(await ws.recv(decode=False)))
                heard = True
        except ConnectionClosed as exc:
            reason = f"connection closed ({exc})"
        except MalformedResponse as exc:
            reason = f"malformed message from the node: {exc}"
        finally:
            self._ws = None
            self._subs.clear()
            try:
                await ws.close()
            except asyncio.CancelledError:  # closed while shutting down: no handshake, but
                ws.transport.abort()  # the socket is closed, not left to the collector
                raise
        fault = TransportFault(reason)
        for rid, (fut, _, _) in list(self._pending.items()):
            if fut is None:
                del self._pending[rid]
            elif not fut.done():
                fut.set_exception(fault)
        return reason, heard

    def _dispatch(self, obj: Any) -> None:
        if isinstance(obj, list):
            for item in obj:
                self._dispatch(item)
            return
        if not isinstance(obj, dict):
            raise MalformedResponse(f"expected a JSON object, got {type(obj).__name__}")
        note = notification(obj)
        if note is not None:
            sub = self._subs.get(note[0])
            if sub is not None:
                sub.push(note[1])
            return
        rid = obj.get("id")
        entry = self._pending.pop(rid, None) if isinstance(rid, int) else None
        if entry is None:  # a late reply to a call that timed out, or an error with id null
            if obj.get("error") is not None:
                log.warning("unmatched error from %s: %r", self._url, obj["error"])
            return
        fut, sub, method = entry
        value = result_or_error(obj, method)
        if sub is not None and not sub.ended:
            if isinstance(value, RpcError):
                if fut is None:  # a re-subscribe the node refused
                    self._live.remove(sub)
                    sub.end(value)
            else:
                sub.id = value
                self._subs[value] = sub
                if sub not in self._live:
                    self._live.append(sub)
        if fut is not None and not fut.done():
            fut.set_result(value)

    def _fail(self, failures: list[str]) -> None:
        self._failure = RpcTransportError(
            f"WebSocket to {', '.join(self.urls)} failed {len(failures)} times in a row; giving up. "
            "Check that the node is up and serves WebSocket, then create a new WsClient",
            failures,
        )
        self._wake.set()
        for fut, _, _ in self._pending.values():
            if fut is not None and not fut.done():
                fut.set_exception(self._failure)
        for sub in self._live:
            sub.end(self._failure)

    async def close(self) -> None:
        """Stop the connection task; every subscription's iteration ends."""
        self._closed = True
        self._wake.set()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        closed = RpcTransportError(f"WsClient for {self._url} was closed while a call was waiting")
        for fut, _, _ in self._pending.values():
            if fut is not None and not fut.done():
                fut.set_exception(closed)
        for sub in self._live:
            sub.end()
        self._live.clear()
