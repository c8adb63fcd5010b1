"""The devnet's builder relay: a Flashbots-compatible JSON-RPC server on 127.0.0.1.

``eth_sendBundle``, ``eth_cancelBundle``, ``eth_callBundle`` and ``mev_sendBundle`` (v0.1),
every request signed with ``X-Flashbots-Signature`` (403 otherwise). Accepted bundles wait in
a pool the builder reads per block (``bundles_for``); every one is also kept in ``received``
with who signed it. ``inject`` makes the next requests fail (an HTTP status) or hang (a
delay), for the live runner's fault tests.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from devnet.builder import HASH_LENGTH, RelayBundle, TrialBlock
from workbench.chain.flashbots import (
    HEADER,
    BadSignature,
    bundle_hash,
    tx_hash,
    verify_flashbots_signature,
)
from workbench.errors import WorkbenchError


class InvalidParams(WorkbenchError, ValueError):
    """A request's params do not fit its method (JSON-RPC -32602)."""


@dataclass(frozen=True, slots=True)
class CallRequest:
    """An ``eth_callBundle``: ``txs`` as block ``block`` on the state after ``state_block``
    (None: the latest block)."""

    txs: tuple[str, ...]
    block: int
    state_block: int | None
    timestamp: int | None


Simulate = Callable[[CallRequest], tuple[TrialBlock, int]]
"""Runs a ``CallRequest``: (the trial, the state block it ran on)."""


class UnknownMethod(WorkbenchError, LookupError):
    """A method the relay does not serve (JSON-RPC -32601)."""


@dataclass(slots=True)
class _Fault:
    status: int | None
    delay: float
    left: int


class RelayServer:
    """The relay on ``127.0.0.1:port`` (0: a free port); ``start()``/``stop()`` or ``with``."""

    def __init__(self, simulate: Simulate, *, port: int = 0) -> None:
        self._simulate = simulate
        self._port = port
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._pool: list[RelayBundle] = []
        self._faults: list[_Fault] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.received: list[RelayBundle] = []
        """Every bundle accepted, in order of arrival (also those later replaced or cancelled)."""
        self.cancelled: list[str] = []
        """The replacement UUIDs of every ``eth_cancelBundle``, in order of arrival."""

    @property
    def url(self) -> str:
        if self._server is None:
            raise WorkbenchError("the relay is not running; start() it first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> RelayServer:
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        server.daemon_threads = True
        server.relay = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="devnet-relay")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving (requests held by an injected delay are let go); idempotent."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> RelayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, *, status: int | None = None, delay: float = 0.0, count: int = 1) -> None:
        """The next ``count`` requests answer HTTP ``status``, or only after ``delay`` seconds."""
        if (status is None) == (not delay) or count < 1:
            raise ValueError("inject needs either status or delay (seconds), and count >= 1")
        with self._lock:
            self._faults.append(_Fault(status, delay, count))

    def bundles_for(self, block: int) -> list[RelayBundle]:
        """The bundles that may go into ``block``, in order of arrival."""
        with self._lock:
            return [b for b in self._pool if b.block <= block <= b.max_block]

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.left -= 1
            if not fault.left:
                self._faults.pop(0)
            return fault

    def _accept(self, bundle: RelayBundle) -> dict[str, str]:
        with self._lock:
            if bundle.replacement_uuid is not None:
                self._pool = [b for b in self._pool if not _same_uuid(b, bundle)]
            self._pool.append(bundle)
            self.received.append(bundle)
        return {"bundleHash": bundle.hash}

    # ---- methods -------------------------------------------------------------------------

    def handle(self, method: str, params: Any, signer: str) -> Any:
        """The result of one JSON-RPC call; raises ``InvalidParams`` or ``UnknownMethod``."""
        if method not in _METHODS:
            raise UnknownMethod(method)
        if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], dict):
            raise InvalidParams(f"{method} takes one object as params, got {params!r:.80}")
        p: dict[str, Any] = params[0]
        if method == "eth_sendBundle":
            return self._accept(self._send_bundle(p, signer))
        if method == "mev_sendBundle":
            return self._accept(self._mev_bundle(p, signer))
        if method == "eth_cancelBundle":
            uuid = p.get("replacementUuid")
            if not isinstance(uuid, str):
                raise InvalidParams("eth_cancelBundle needs replacementUuid")
            with self._lock:
                self._pool = [
                    b for b in self._pool if not (b.signer == signer and b.replacement_uuid == uuid)
                ]
                self.cancelled.append(uuid)
            return None
        if method == "eth_callBundle":
            return self._call_bundle(p)
        raise UnknownMethod(method)

    def _send_bundle(self, p: dict[str, Any], signer: str) -> RelayBundle:
        txs = _raws(p.get("txs"), "txs")
        block = _number(p.get("blockNumber"), "blockNumber")
        reverting = p.get("revertingTxHashes") or []
        if not isinstance(reverting, list) or not all(_is_hash(h) for h in reverting):
            raise InvalidParams("revertingTxHashes must be a list of 32-byte 0x hashes")
        uuid = p.get("replacementUuid")
        return RelayBundle(
            hash=bundle_hash(tx_hash(t) for t in txs),
            items=txs,
            block=block,
            max_block=block,
            signer=signer,
            method="eth_sendBundle",
            received_at=time.time(),
            seq=next(self._seq),
            min_timestamp=_opt_int(p.get("minTimestamp"), "minTimestamp"),
            max_timestamp=_opt_int(p.get("maxTimestamp"), "maxTimestamp"),
            may_revert=frozenset(h.lower() for h in reverting),
            replacement_uuid=uuid if isinstance(uuid, str) else None,
        )

    def _mev_bundle(self, p: dict[str, Any], signer: str) -> RelayBundle:
        if p.get("version") != "v0.1":
            raise InvalidParams(f"mev_sendBundle version must be v0.1, got {p.get('version')!r}")
        inclusion = p.get("inclusion")
        if not isinstance(inclusion, dict):
            raise InvalidParams("mev_sendBundle needs inclusion {block, maxBlock}")
        block = _number(inclusion.get("block"), "inclusion.block")
        max_block = _number(inclusion.get("maxBlock", block), "inclusion.maxBlock")
        body = p.get("body")
        if not isinstance(body, list) or not body or not all(isinstance(i, dict) for i in body):
            raise InvalidParams("mev_sendBundle needs a body: [{tx, canRevert} | {hash}, ...]")
        items, may_revert = [], set()
        for item in body:
            if "hash" in item:
                if not _is_hash(item["hash"]):
                    raise InvalidParams(f"body hash {item['hash']!r:.80} is not a 32-byte hash")
                items.append(item["hash"].lower())
            else:
                (raw,) = _raws([item.get("tx")], "body tx")
                items.append(raw)
                if item.get("canRevert"):
                    may_revert.add(tx_hash(raw))
        hashes = [i if len(i) == HASH_LENGTH else tx_hash(i) for i in items]
        return RelayBundle(
            hash=bundle_hash(hashes),
            items=tuple(items),
            block=block,
            max_block=max(block, max_block),
            signer=signer,
            method="mev_sendBundle",
            received_at=time.time(),
            seq=next(self._seq),
            may_revert=frozenset(may_revert),
        )

    def _call_bundle(self, p: dict[str, Any]) -> dict[str, Any]:
        state = p.get("stateBlockNumber", "latest")
        request = CallRequest(
            txs=_raws(p.get("txs"), "txs"),
            block=_number(p.get("blockNumber"), "blockNumber"),
            state_block=None if state == "latest" else _number(state, "stateBlockNumber"),
            timestamp=_opt_int(p.get("timestamp"), "timestamp"),
        )
        run, state_block = self._simulate(request)
        return call_bundle_result(run, request.txs, state_block)


def call_bundle_result(run: TrialBlock, txs: tuple[str, ...], state_block: int) -> dict[str, Any]:
    """``eth_callBundle``'s result in the Flashbots shape (wei as decimal strings)."""
    if run.error:
        raise InvalidParams(f"the bundle cannot be simulated: {run.error}")
    results = []
    for t in run.txs:
        r: dict[str, Any] = {
            "txHash": t.hash,
            "fromAddress": t.sender,
            "toAddress": t.to,
            "gasUsed": t.gas_used,
            "gasPrice": str(t.gas_price - run.base_fee),
            "gasFees": str(t.tip_fees),
            "coinbaseDiff": str(t.tip_fees + t.to_coinbase),
            "ethSentToCoinbase": str(t.to_coinbase),
        }
        if t.status:
            r["value"] = t.output
        else:
            r["error"] = "execution reverted"
            r["revert"] = t.error or ""
        results.append(r)
    gas = sum(t.gas_used for t in run.txs)
    fees = sum(t.tip_fees for t in run.txs)
    return {
        "results": results,
        "bundleHash": bundle_hash(tx_hash(t) for t in txs),
        "bundleGasPrice": str(run.coinbase_diff // gas if gas else 0),
        "coinbaseDiff": str(run.coinbase_diff),
        "ethSentToCoinbase": str(run.coinbase_diff - fees),
        "gasFees": str(fees),
        "totalGasUsed": gas,
        "stateBlockNumber": state_block,
    }


_METHODS = frozenset({"eth_sendBundle", "mev_sendBundle", "eth_cancelBundle", "eth_callBundle"})


def _same_uuid(a: RelayBundle, b: RelayBundle) -> bool:
    return a.signer == b.signer and a.replacement_uuid == b.replacement_uuid


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == HASH_LENGTH and _is_hex(value)


def _is_hex(value: str) -> bool:
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        return False
    return value.startswith("0x")


def _raws(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidParams(f"{what} must be a non-empty list of signed transactions (0x hex)")
    for raw in value:
        if not isinstance(raw, str) or len(raw) <= HASH_LENGTH or not _is_hex(raw):
            raise InvalidParams(f"{what}: {str(raw)[:24]!r}... is not a 0x-hex signed transaction")
    return tuple(raw.lower() for raw in value)


def _number(value: Any, what: str) -> int:
    try:
        return int(value, 16) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise InvalidParams(f"{what} must be a block number (0x hex), got {value!r:.40}") from None


def _opt_int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidParams(f"{what} must be a non-negative integer, got {value!r:.40}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, obj: Any) -> None:
        body = orjson.dumps(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, rid: Any, code: int, message: str) -> None:
        error = {"code": code, "message": message}
        self._reply(status, {"jsonrpc": "2.0", "id": rid, "error": error})

    def do_POST(self) -> None:
        relay: RelayServer = self.server.relay  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = relay._next_fault()
        if fault is not None and fault.status is not None:
            self._error(fault.status, None, -32603, f"injected HTTP {fault.status}")
            return
        if fault is not None:
            relay._stopping.wait(fault.delay)
        try:
            signer = verify_flashbots_signature(self.headers.get(HEADER), body)
        except BadSignature as exc:
            self._error(403, None, -32600, str(exc))
            return
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            self._error(400, None, -32700, f"parse error: the body is not JSON ({exc})")
            return
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            self._error(400, None, -32600, "invalid request: expected a JSON-RPC 2.0 object")
            return
        rid, method = req.get("id"), req["method"]
        try:
            result = relay.handle(method, req.get("params"), signer)
        except UnknownMethod:
            self._error(200, rid, -32601, f"method {method} is not served by the devnet relay")
        except InvalidParams as exc:
            self._error(200, rid, -32602, f"invalid params for {method}: {exc}")
        except Exception as exc:  # the node is restarting, stopping, or a bug: say so
            self._error(200, rid, -32603, f"{method} failed: {type(exc).__name__}: {exc}")
        else:
            self._reply(200, {"jsonrpc": "2.0", "id": rid, "result": result})
