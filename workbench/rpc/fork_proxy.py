"""A JSON-RPC endpoint on 127.0.0.1 that an Anvil fork talks to instead of the archive node.

The node's URL, with any key in it, stays in this process: it is never on Anvil's command line
(readable in /proc) nor in anything stored. On the way the proxy keeps the RPC budget:

- every answer the fork fetched can be recorded into a cassette (``record``), and a cassette
  replays a range with no node at all (``replay``): a call it lacks is refused and listed in
  ``missing``, so the replay fails saying which;
- ``rate_cu``: at most that many compute units per second go upstream (a token bucket, with
  the providers' usual price per method);
- 429s, 5xx and dropped connections are retried with backoff (``RpcClient``);
- ``stats`` counts what went upstream, by method, and the answers that failed.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, RpcError, RpcTransportError
from workbench.files import write_atomically
from workbench.rpc.client import RpcClient
from workbench.rpc.redact import redact_url
from workbench.rpc.retry import RetryPolicy

CASSETTE_FORMAT = 1
COMPUTE_UNITS: Mapping[str, int] = {
    "eth_chainId": 0,
    "net_version": 0,
    "eth_blockNumber": 10,
    "eth_getBlockByNumber": 16,
    "eth_getBlockByHash": 16,
    "eth_getStorageAt": 17,
    "eth_getBalance": 19,
    "eth_getCode": 26,
    "eth_getTransactionCount": 26,
    "eth_getTransactionByHash": 17,
    "eth_getTransactionReceipt": 15,
    "eth_call": 26,
}
"""Compute units per call (what providers bill; 20 for any other method)."""
_DEFAULT_CU = 20
_UPSTREAM_RETRY = RetryPolicy(max_attempts=6, base_delay=0.25, max_delay=8.0)


@dataclass
class ForkStats:
    """What went upstream (calls by method) and how many answers failed (the node did not
    answer, or a replayed cassette lacked the call)."""

    calls: Counter[str] = field(default_factory=Counter)
    failed: int = 0


def _key(method: str, params: Any) -> str:
    return json.dumps([method, params], sort_keys=True, separators=(",", ":"))


class _Bucket:
    """``rate`` compute units per second, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()
        self.lock = threading.Lock()

    def take(self, units: int) -> None:
        """Waits until ``units`` may be spent (a call dearer than a second's worth waits for a
        full bucket and leaves it in debt)."""
        need = min(units, self.rate)
        with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= need:
                    self.tokens -= units
                    return
                time.sleep((need - self.tokens) / self.rate)


class ForkProxy:
    """``with ForkProxy(url) as proxy:`` then fork ``proxy.url`` (see the module docstring)."""

    def __init__(
        self,
        upstream: str | None,
        *,
        record: Path | None = None,
        replay: Path | None = None,
        rate_cu: float | None = None,
        retry: RetryPolicy = _UPSTREAM_RETRY,
        stats: ForkStats | None = None,
    ) -> None:
        if (upstream is None) == (replay is None):
            raise ConfigError("a fork needs either an archive node URL or a cassette to replay")
        if record is not None and replay is not None:
            raise ConfigError("--record and --replay exclude each other: replaying records nothing")
        if rate_cu is not None and rate_cu <= 0:
            raise ConfigError(
                f"--rpc-rate must be positive (compute units per second), got {rate_cu}"
            )
        self._upstream, self._retry = upstream, retry
        self.record, self.replay = record, replay
        self.stats = stats or ForkStats()
        self.missing: list[str] = []
        self._answers: dict[str, dict[str, Any]] = {}
        if replay is not None:
            self._answers = _load(replay)
        self._bucket = _Bucket(rate_cu) if rate_cu else None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def where(self) -> str:
        """The upstream as it may be shown: redacted, or the cassette's path."""
        return redact_url(self._upstream) if self._upstream else f"cassette {self.replay}"

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the proxy first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> ForkProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: a fork sends thousands of reads

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                reply = json.dumps(proxy.answer(json.loads(body))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                # the fork may have given up on this read (it retries or fails on its side)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(reply)

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # a fork opens many connections at once
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.save()

    def __enter__(self) -> ForkProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def save(self) -> None:
        """Writes the cassette being recorded (atomically: a crash keeps the previous one)."""
        if self.record is None:
            return
        with self._lock:
            answers = with_account_forms(self._answers)
        text = json.dumps({"format": CASSETTE_FORMAT, "answers": answers}, sort_keys=True)
        write_atomically(self.record, text + "\n")

    def record_accounts(self, addresses: list[str], block: int) -> None:
        """Records the balance, nonce and code of ``addresses`` at ``block``. Anvil fetches some
        accounts on its own time (its dev accounts as it starts), so one run asks for them and
        the next may not: a cassette holds them anyway, and its replay does not depend on it."""
        for address in addresses:
            for method in ("eth_getBalance", "eth_getTransactionCount", "eth_getCode"):
                self._one({"method": method, "params": [address.lower(), hex(block)]})

    def answer(self, request: Any) -> Any:
        """The reply to a JSON-RPC request or batch."""
        if isinstance(request, list):
            return [self._one(r) for r in request]
        return self._one(request)

    def _one(self, request: Mapping[str, Any]) -> dict[str, Any]:
        method, params = request.get("method", ""), request.get("params", [])
        key = _key(method, params)
        with self._lock:
            known = self._answers.get(key)
        if known is None and self.replay is not None:
            self.missing.append(f"{method} {json.dumps(params)[:200]}")
            self.stats.failed += 1
            known = {
                "error": {
                    "code": -32001,
                    "message": f"the cassette {self.replay} has no answer for {method}",
                }
            }
        elif known is None:
            known = self._fetch(method, params)
            if self.record is not None and "transport" not in known:
                with self._lock:
                    self._answers[key] = known
        reply = {k: v for k, v in known.items() if k != "transport"}
        return {"jsonrpc": "2.0", "id": request.get("id"), **reply}

    def _fetch(self, method: str, params: Any) -> dict[str, Any]:
        if self._bucket is not None:
            self._bucket.take(COMPUTE_UNITS.get(method, _DEFAULT_CU))
        client = getattr(self._local, "client", None)
        if client is None:
            assert self._upstream is not None
            client = self._local.client = RpcClient(self._upstream, retry=self._retry)
        with self._lock:
            self.stats.calls[method] += 1
        try:
            return {"result": client.call(method, params)}
        except RpcError as err:  # the node's own answer: passed on, and recorded as such
            return {"error": {"code": err.code, "message": err.message, "data": err.data}}
        except RpcTransportError:
            with self._lock:
                self.stats.failed += 1
            message = f"the archive node at {self.where} did not answer {method}"
            return {"error": {"code": -32002, "message": message}, "transport": True}


_ACCOUNT_PARTS = {
    "eth_getBalance": "balance",
    "eth_getTransactionCount": "nonce",
    "eth_getCode": "code",
}


def with_account_forms(answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``answers`` with each account read in both of the forms a fork may ask it in: one
    ``eth_getAccountInfo`` or its balance, nonce and code apart. Foundry picks one or the other
    on its own time, so a replay may ask in the form its recording did not."""
    out = dict(answers)
    parts: dict[str, dict[str, Any]] = {}
    for key, answer in answers.items():
        method, params = json.loads(key)
        if "result" not in answer:
            continue
        if method == "eth_getAccountInfo":
            for part, name in _ACCOUNT_PARTS.items():
                out.setdefault(_key(part, params), {"result": answer["result"][name]})
        elif method in _ACCOUNT_PARTS:
            parts.setdefault(_key("eth_getAccountInfo", params), {})[_ACCOUNT_PARTS[method]] = (
                answer["result"]
            )
    for key, info in parts.items():
        if len(info) == len(_ACCOUNT_PARTS):
            out.setdefault(key, {"result": info})
    return out


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the cassette {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not a cassette (not JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != CASSETTE_FORMAT:
        raise ConfigError(f"{path} is not a cassette of format {CASSETTE_FORMAT}")
    answers: dict[str, dict[str, Any]] = data.get("answers", {})
    return with_account_forms(answers)
