"""One ``eth_subscribe`` stream as an async iterator that outlives reconnects of its client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class Subscription:
    """The notifications of one ``eth_subscribe``; ``async for`` them, ``unsubscribe()`` to stop.

    Iteration ends after ``unsubscribe()`` or ``WsClient.close()``, and raises
    ``RpcTransportError`` if the client gave up reconnecting (or ``RpcError`` if the node
    refused to re-subscribe after a reconnect). Notifications queue without bound until read.
    """

    def __init__(
        self,
        kind: str,
        params: tuple[Any, ...],
        on_unsubscribe: Callable[[Subscription], Awaitable[None]],
    ) -> None:
        self.kind = kind
        self.params = params
        self.id: str | None = None
        """The node's subscription id on the current connection."""
        self.ended = False
        self._on_unsubscribe = on_unsubscribe
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # stays ended for later readers
            raise item.error or StopAsyncIteration
        return item

    def push(self, item: Any) -> None:
        self._queue.put_nowait(item)

    def end(self, error: Exception | None = None) -> None:
        """Finish iteration after the queued items, raising ``error`` if given."""
        if not self.ended:
            self.ended = True
            self._queue.put_nowait(_End(error))

    async def unsubscribe(self) -> None:
        await self._on_unsubscribe(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.unsubscribe()


class _End:
    __slots__ = ("error",)

    def __init__(self, error: Exception | None) -> None:
        self.error = error
