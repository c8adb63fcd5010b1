"""Relay clients: Flashbots-compatible (``eth_sendBundle``, ``eth_callBundle``,
``eth_cancelBundle``, ``mev_sendBundle``, signed with ``X-Flashbots-Signature``) and bloXroute
(``blxr_submit_bundle``, authorised by an ``Authorization`` header).

Synchronous, like ``workbench.rpc``. A request is retried with backoff on timeouts,
connection failures, 429 and 5xx (the identical body and signature each time: relays treat it
as the same bundle); any other answer is final. Sending methods never raise for what the relay
does: they return a ``Submission`` saying it. Thread-safe (connections are pooled).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson

from live.relays.auth import HEADER, flashbots_signature
from live.relays.bundles import BundleRequest, MevShareBundle
from live.relays.errors import RelayRejected, RelayUnavailable
from live.relays.http import RelayTransport, Reply
from live.relays.records import CallBundleResult, SimulatedTx, Status, Submission
from live.signer import SearcherIdentity
from workbench.errors import ConfigError
from workbench.rpc import RetryPolicy
from workbench.rpc.codec import MalformedResponse, loads
from workbench.rpc.retry import TransportFault

__all__ = ["DEFAULT_RETRY", "BloxrouteRelay", "FlashbotsRelay", "Relay", "relay_name"]

DEFAULT_RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.5)
"""Three tries within about a quarter second of backoff: a bundle is only good for one block."""


def relay_name(url: str) -> str:
    """A relay's name from its URL: host and port only, never the userinfo (``user:secret@``)
    a URL may carry; it labels metrics, the status API and the store."""
    parts = urlsplit(url)
    host = parts.hostname or "relay"
    host = f"[{host}]" if ":" in host else host
    return host if parts.port is None else f"{host}:{parts.port}"


@dataclass(slots=True)
class _Answer:
    status: Status
    attempts: int
    latency_ms: float
    sent_at: float
    result: Any = None
    error: str | None = None
    code: int | None = None
    log: list[str] = field(default_factory=list)


class Relay:
    """One relay or builder endpoint; subclasses choose the methods and the authentication."""

    send_method: ClassVar[str] = "eth_sendBundle"
    auth_hint: ClassVar[str] = "check the relay's authentication"

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        timeout: float = 2.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], object] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._transport = RelayTransport(url, timeout)
        self.url = url
        self.name = name or relay_name(url)
        self.retry = retry
        self._sleep = sleep
        self._rng = rng

    def send_bundle(self, bundle: BundleRequest) -> Submission:
        raise NotImplementedError

    def cancel_bundle(self, replacement_uuid: str, block: int) -> Submission:
        """Withdraws every bundle sent with ``replacement_uuid`` (``block``: the one targeted)."""
        raise NotImplementedError

    def _auth_headers(self, body: bytes) -> dict[str, str]:
        return {}

    def _request(self, method: str, params: Any) -> _Answer:
        # One request at a time per connection, so a constant id is enough; it also makes equal
        # requests to several relays byte-identical, and their signature computed once.
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        headers = self._auth_headers(body)
        log: list[str] = []
        retry_after: float | None = None
        sent_at, start = time.time(), time.perf_counter()
        for attempt in range(self.retry.max_attempts):
            if attempt:
                self._sleep(self.retry.delay(attempt - 1, self._rng, retry_after))
            retry_after = None
            try:
                reply = self._transport.post(body, headers)
            except TransportFault as fault:
                log.append(str(fault))
                continue
            if reply.status == 429 or reply.status >= 500:
                log.append(f"HTTP {reply.status}: {reply.body[:120]!r}")
                retry_after = reply.retry_after
                continue
            try:
                result, error, code = _parse(reply)
            except MalformedResponse as exc:
                log.append(f"malformed reply: {exc}")
                continue
            ms = (time.perf_counter() - start) * 1000
            if error is None:
                return _Answer("accepted", attempt + 1, ms, sent_at, result=result, log=log)
            hint = ""
            if reply.status in (401, 403) or "signature" in error.lower():
                hint = f"; {self.auth_hint}"
            msg = f"{self.name} rejected {method}: {error}{hint}"
            return _Answer("rejected", attempt + 1, ms, sent_at, error=msg, code=code, log=log)
        ms = (time.perf_counter() - start) * 1000
        tries = "; ".join(f"attempt {i + 1}: {a}" for i, a in enumerate(log))
        msg = f"{self.name} gave no usable answer to {method} after {len(log)} attempt(s) ({tries})"
        return _Answer("failed", len(log), ms, sent_at, error=msg, log=log)

    def _submission(
        self,
        method: str,
        block: int,
        answer: _Answer,
        *,
        bundle_hash: str | None,
        replacement_uuid: str | None,
    ) -> Submission:
        relay_hash = answer.result.get("bundleHash") if isinstance(answer.result, dict) else None
        return Submission(
            relay=self.name,
            url=self.url,
            method=method,
            target_block=block,
            bundle_hash=bundle_hash,
            replacement_uuid=replacement_uuid,
            status=answer.status,
            attempts=answer.attempts,
            latency_ms=answer.latency_ms,
            sent_at=answer.sent_at,
            relay_bundle_hash=relay_hash if isinstance(relay_hash, str) else None,
            error=answer.error,
            error_code=answer.code,
        )

    def _sent(self, bundle: BundleRequest, answer: _Answer) -> Submission:
        """The record of ``bundle`` sent with ``send_method``."""
        return self._submission(
            self.send_method,
            bundle.block,
            answer,
            bundle_hash=bundle.hash,
            replacement_uuid=bundle.replacement_uuid,
        )

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.url!r})"


class FlashbotsRelay(Relay):
    """A Flashbots-compatible relay or builder; every request signed by the searcher identity."""

    auth_hint: ClassVar[str] = f"check the searcher identity key that signs {HEADER}"

    def __init__(self, url: str, identity: SearcherIdentity, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.identity = identity

    def _auth_headers(self, body: bytes) -> dict[str, str]:
        return {HEADER: flashbots_signature(self.identity, body)}

    def send_bundle(self, bundle: BundleRequest) -> Submission:
        return self._sent(bundle, self._request(self.send_method, [bundle.flashbots_params()]))

    def send_mev_bundle(self, bundle: MevShareBundle) -> Submission:
        answer = self._request("mev_sendBundle", [bundle.params()])
        return self._submission(
            "mev_sendBundle", bundle.block, answer, bundle_hash=bundle.hash, replacement_uuid=None
        )

    def cancel_bundle(self, replacement_uuid: str, block: int) -> Submission:
        answer = self._request("eth_cancelBundle", [{"replacementUuid": replacement_uuid}])
        return self._submission(
            "eth_cancelBundle", block, answer, bundle_hash=None, replacement_uuid=replacement_uuid
        )

    def call_bundle(
        self,
        bundle: BundleRequest,
        *,
        state_block: int | str = "latest",
        timestamp: int | None = None,
    ) -> CallBundleResult:
        """Simulates ``bundle`` at ``bundle.block`` on the state after ``state_block``.

        Raises ``RelayRejected`` / ``RelayUnavailable``: a query has nothing to record.
        """
        params: dict[str, Any] = {
            "txs": list(bundle.txs),
            "blockNumber": hex(bundle.block),
            "stateBlockNumber": hex(state_block) if isinstance(state_block, int) else state_block,
        }
        if timestamp is not None:
            params["timestamp"] = timestamp
        answer = self._request("eth_callBundle", [params])
        if answer.status == "rejected":
            raise RelayRejected(self.name, "eth_callBundle", answer.error or "", answer.code)
        if answer.status == "failed":
            raise RelayUnavailable(self.name, "eth_callBundle", answer.error or "", answer.log)
        try:
            return _call_bundle_result(answer.result)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RelayRejected(
                self.name,
                "eth_callBundle",
                f"{self.name} answered eth_callBundle with an unexpected result ({exc!r})",
            ) from None


class BloxrouteRelay(Relay):
    """bloXroute's Cloud API or a gateway: ``blxr_submit_bundle``, ``Authorization`` header."""

    send_method: ClassVar[str] = "blxr_submit_bundle"
    auth_hint: ClassVar[str] = "check the bloXroute Authorization header"

    def __init__(
        self,
        url: str,
        auth_header: str,
        *,
        mev_builders: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not auth_header:
            raise ConfigError("bloXroute needs the account's authorization header value")
        super().__init__(url, **kwargs)
        self._auth = auth_header
        self.mev_builders = dict(mev_builders) if mev_builders is not None else None

    def _auth_headers(self, body: bytes) -> dict[str, str]:
        return {"Authorization": self._auth}

    def _params(self, txs: list[str], block: int, uuid: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"transaction": txs, "block_number": hex(block)}
        if uuid is not None:
            params["uuid"] = uuid
        if self.mev_builders is not None:
            params["mev_builders"] = self.mev_builders
        return params

    def send_bundle(self, bundle: BundleRequest) -> Submission:
        params = self._params([t[2:] for t in bundle.txs], bundle.block, bundle.replacement_uuid)
        if bundle.min_timestamp is not None:
            params["min_timestamp"] = bundle.min_timestamp
        if bundle.max_timestamp is not None:
            params["max_timestamp"] = bundle.max_timestamp
        if bundle.reverting_tx_hashes:
            params["reverting_hashes"] = list(bundle.reverting_tx_hashes)
        return self._sent(bundle, self._request(self.send_method, params))

    def cancel_bundle(self, replacement_uuid: str, block: int) -> Submission:
        """bloXroute cancels by an empty bundle under the same uuid."""
        answer = self._request("blxr_submit_bundle", self._params([], block, replacement_uuid))
        return self._submission(
            "blxr_submit_bundle", block, answer, bundle_hash=None, replacement_uuid=replacement_uuid
        )


def _parse(reply: Reply) -> tuple[Any, str | None, int | None]:
    """(result, error text, error code) from a non-retryable reply; malformed 2xx replies raise."""
    ok = 200 <= reply.status < 300
    try:
        obj = loads(reply.body)
    except MalformedResponse:
        if ok:
            raise
        return None, f"HTTP {reply.status}: {reply.body[:200]!r}", None
    if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
        err = obj["error"]
        code = err.get("code") if isinstance(err.get("code"), int) else None
        where = "" if ok else f"HTTP {reply.status}, "
        return None, f"{where}RPC error {code}: {err.get('message', '')}", code
    if isinstance(obj, dict) and isinstance(obj.get("error"), str):  # some relays send text
        return None, f"HTTP {reply.status}: {obj['error']}", None
    if not ok:
        return None, f"HTTP {reply.status}: {reply.body[:200]!r}", None
    if not isinstance(obj, dict) or "result" not in obj:
        raise MalformedResponse(f"not a JSON-RPC response: {reply.body[:120]!r}")
    return obj["result"], None, None


def _int(value: Any) -> int:
    """Relays send amounts as decimal strings, hex strings or numbers."""
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text, 16) if text.startswith("0x") else int(text)


def _call_bundle_result(result: Any) -> CallBundleResult:
    txs = tuple(
        SimulatedTx(
            tx_hash=r["txHash"],
            gas_used=_int(r.get("gasUsed", 0)),
            coinbase_diff=_int(r.get("coinbaseDiff", 0)),
            error=r.get("error") or r.get("revert"),
        )
        for r in result.get("results", [])
    )
    return CallBundleResult(
        bundle_hash=result["bundleHash"],
        state_block=_int(result.get("stateBlockNumber", 0)),
        coinbase_diff=_int(result.get("coinbaseDiff", 0)),
        eth_sent_to_coinbase=_int(result.get("ethSentToCoinbase", 0)),
        gas_fees=_int(result.get("gasFees", 0)),
        total_gas_used=_int(result.get("totalGasUsed", sum(t.gas_used for t in txs))),
        results=txs,
    )
