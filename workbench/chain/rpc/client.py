"""The lean synchronous JSON-RPC client used on hot paths (web3.py is kept for ABIs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.chain.rpc.codec import Call, IdSource, MalformedResponse, decode, decode_batch, encode, encode_batch
from workbench.chain.rpc.http import HttpTransport, TransportFault
from workbench.errors import RpcError, RpcTransportError


class RpcClient:
    """JSON-RPC over HTTP with persistent connections.

    ``call`` returns the result or raises ``RpcError``; ``batch`` sends many calls in one
    request and returns results in order, with ``RpcError`` instances in place of failed calls.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._transport = HttpTransport(url, timeout)
        self._ids = IdSource()

    @property
    def url(self) -> str:
        return self._transport.url

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        rid = self._ids.next()
        body = self._post(encode((method, params), rid))
        try:
            result = decode(body, rid, method)
        except MalformedResponse as exc:
            raise RpcTransportError(f"{method} to {self.url}: malformed reply: {exc}") from None
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(self, calls: Sequence[Call]) -> list[Any]:
        if not calls:
            return []
        first = self._ids.next()
        for _ in range(len(calls) - 1):
            self._ids.next()
        body = self._post(encode_batch(calls, first))
        try:
            return decode_batch(body, calls, first)
        except MalformedResponse as exc:
            raise RpcTransportError(f"batch of {len(calls)} to {self.url}: malformed reply: {exc}") from None

    def _post(self, body: bytes) -> bytes:
        try:
            return self._transport.post(body)
        except TransportFault as fault:
            raise RpcTransportError(f"request to {self.url} failed: {fault}") from None

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
