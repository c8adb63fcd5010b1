"""live.relays against local relay stubs (127.0.0.1, random ports).

The stub checks ``X-Flashbots-Signature`` on its own: it recovers the signer from the EIP-191
signature of the 0x-hex keccak256 of the exact body bytes received, with eth-account alone,
and answers 403 with a JSON-RPC error when it does not match the claimed address. It replies
to the n-th request with the n-th scripted action (``500``, ``429``, ``hang``), then normally.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

import live.relays
from live.relays import (
    HEADER,
    BadSignature,
    BloxrouteRelay,
    BundleRequest,
    FanOut,
    FlashbotsRelay,
    MevShareBundle,
    MevShareHash,
    MevShareTx,
    Privacy,
    Refund,
    RefundConfig,
    RelayRejected,
    RelayUnavailable,
    flashbots_signature,
    relay_from,
    verify_flashbots_signature,
)
from live.relays.client import relay_name
from live.signer import SearcherIdentity
from workbench.errors import ConfigError
from workbench.rpc import RetryPolicy

TIMEOUT = 0.2
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
BLX_AUTH = "dGVzdDp0ZXN0"  # the stub's bloXroute Authorization value
FUNDS = Account.from_key("0x" + "11" * 32)


def signed_tx(nonce: int) -> str:
    tx = {
        "type": 2,
        "chainId": 1,
        "nonce": nonce,
        "to": "0x" + "22" * 20,
        "value": 1,
        "gas": 21000,
        "maxFeePerGas": 2 * 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    return FUNDS.sign_transaction(tx).raw_transaction.to_0x_hex()


def stub_bundle_hash(raw_txs: list[str]) -> str:
    """The Flashbots bundle hash, computed independently of live.relays."""
    return (
        "0x" + keccak(b"".join(keccak(bytes.fromhex(t.removeprefix("0x"))) for t in raw_txs)).hex()
    )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RelayStub

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, status: int, obj: Any, **headers: str) -> None:
        body = orjson.dumps(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, rid: Any, code: int, message: str) -> None:
        self._json(
            status, {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
        )

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        srv = self.server
        with srv.lock:
            action = srv.script.pop(0) if srv.script else "ok"
        if action == "500":
            self._json(500, {"error": "internal"})
            return
        if action == "429":
            self._json(429, {"error": "slow down"}, Retry_After="0.03")
            return
        if action == "hang":
            srv.stopping.wait(TIMEOUT * 3)
            self._json(500, {"error": "too late"})
            return
        req = orjson.loads(body)
        rid, method, params = req["id"], req["method"], req["params"]
        if srv.dialect == "flashbots":
            signer = self._check_signature(body)
            if signer is None:
                claimed = (self.headers.get(HEADER) or "?:").split(":")[0]
                self._error(403, rid, -32600, f"error in signature check {claimed}")
                return
        else:
            signer = None
            if self.headers.get("Authorization") != BLX_AUTH:
                self._error(401, rid, -32600, "invalid authorization header")
                return
        with srv.lock:
            srv.seen.append(
                {
                    "method": method,
                    "params": params,
                    "signer": signer,
                    "headers": dict(self.headers),
                }
            )
        self._json(200, {"jsonrpc": "2.0", "id": rid, "result": self._answer(method, params)})

    def _check_signature(self, body: bytes) -> str | None:
        header = self.headers.get(HEADER)
        if not header or ":" not in header:
            return None
        claimed, signature = header.split(":", 1)
        digest = "0x" + keccak(body).hex()
        try:
            recovered = Account.recover_message(encode_defunct(text=digest), signature=signature)
        except Exception:
            return None
        return recovered if recovered.lower() == claimed.lower() else None

    def _answer(self, method: str, params: Any) -> Any:
        if method == "eth_sendBundle":
            p = params[0]
            h = stub_bundle_hash(p["txs"])
            with self.server.lock:
                self.server.bundles.append((h, int(p["blockNumber"], 16)))
            return {"bundleHash": h}
        if method == "blxr_submit_bundle":
            if not params["transaction"]:
                return None  # a cancellation
            h = stub_bundle_hash(params["transaction"])
            with self.server.lock:
                self.server.bundles.append((h, int(params["block_number"], 16)))
            return None if "uuid" in params else {"bundleHash": h}
        if method == "mev_sendBundle":
            return {"bundleHash": "0x" + "ee" * 32}
        if method == "eth_cancelBundle":
            return None
        if method == "eth_callBundle":
            txs = params[0]["txs"]
            return {
                "bundleGasPrice": "476190476193",
                "bundleHash": stub_bundle_hash(txs),
                "coinbaseDiff": "20000000000126000",
                "ethSentToCoinbase": "20000000000000000",
                "gasFees": "126000",
                "results": [
                    {
                        "txHash": "0x" + keccak(bytes.fromhex(t[2:])).hex(),
                        "gasUsed": 21000,
                        "coinbaseDiff": "10000000000063000",
                        "value": "0x",
                    }
                    for t in txs
                ],
                "stateBlockNumber": 5221585,
                "totalGasUsed": 21000 * len(txs),
            }
        raise AssertionError(f"stub got unexpected method {method}")


class RelayStub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, dialect: str = "flashbots") -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.dialect = dialect
        self.script: list[str] = []
        self.seen: list[dict[str, Any]] = []  # requests that passed authentication
        self.bundles: list[tuple[str, int]] = []  # (bundle hash, block) accepted
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out leaves a broken pipe behind; expected here


@contextlib.contextmanager
def running(dialect: str = "flashbots") -> Iterator[RelayStub]:
    srv = RelayStub(dialect)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.stopping.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def stub() -> Iterator[RelayStub]:
    with running() as srv:
        yield srv


@pytest.fixture
def identity() -> SearcherIdentity:
    return SearcherIdentity.generate()


def client(srv: RelayStub, identity: SearcherIdentity, **kw: Any) -> FlashbotsRelay:
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("timeout", TIMEOUT)
    return FlashbotsRelay(srv.url, identity, **kw)


BUNDLE = BundleRequest(txs=(signed_tx(0), signed_tx(1)), block=0x1234)


def test_send_bundle_signs_the_exact_body_and_the_stub_recovers_us(stub, identity):
    bundle = BundleRequest(
        txs=(signed_tx(0),),
        block=100,
        min_timestamp=1_700_000_000,
        max_timestamp=1_700_000_120,
        reverting_tx_hashes=("0x" + "ab" * 32,),
        replacement_uuid="2d4e9a37-6e0b-4b2f-9f1e-1b1c1c0e5a11",
    )
    with client(stub, identity) as relay:
        sub = relay.send_bundle(bundle)
    assert sub.ok and sub.status == "accepted" and sub.attempts == 1 and sub.error is None
    assert stub.seen[0]["signer"] == identity.address
    assert stub.seen[0]["params"] == [
        {
            "txs": [bundle.txs[0]],
            "blockNumber": "0x64",
            "minTimestamp": 1_700_000_000,
            "maxTimestamp": 1_700_000_120,
            "revertingTxHashes": ["0x" + "ab" * 32],
            "replacementUuid": "2d4e9a37-6e0b-4b2f-9f1e-1b1c1c0e5a11",
        }
    ]
    assert sub.bundle_hash == sub.relay_bundle_hash == stub_bundle_hash(list(bundle.txs))
    assert (sub.relay, sub.method, sub.target_block) == (relay.name, "eth_sendBundle", 100)
    assert sub.replacement_uuid == bundle.replacement_uuid and sub.latency_ms > 0


class ForgedRelay(FlashbotsRelay):
    """Signs other bytes than it sends (or claims someone else's address)."""

    def __init__(self, *a: Any, impostor: bool = False, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.impostor = impostor

    def _auth_headers(self, body: bytes) -> dict[str, str]:
        if self.impostor:
            other = SearcherIdentity.generate()
            return {HEADER: f"{other.address}:{self.identity.sign_text('0x' + keccak(body).hex())}"}
        return {HEADER: flashbots_signature(self.identity, body + b" ")}


@pytest.mark.parametrize("impostor", [False, True], ids=["other-bytes", "other-address"])
def test_a_wrong_signature_is_rejected_with_a_clear_error(stub, identity, impostor):
    with ForgedRelay(stub.url, identity, impostor=impostor, retry=FAST_RETRY) as relay:
        sub = relay.send_bundle(BUNDLE)
        assert sub.status == "rejected" and sub.attempts == 1  # never retried
        assert sub.error_code == -32600
        assert "error in signature check" in sub.error
        assert "check the searcher identity key that signs X-Flashbots-Signature" in sub.error
        with pytest.raises(RelayRejected, match="signature check") as info:
            sub.raise_for_status()
        assert info.value.relay == relay.name and info.value.method == "eth_sendBundle"
        with pytest.raises(RelayRejected, match="rejected eth_callBundle"):
            relay.call_bundle(BUNDLE)
    assert stub.seen == [] and stub.bundles == []


def test_our_verifier_agrees_with_the_stub(identity):
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendBundle", "params": []})
    header = flashbots_signature(identity, body)
    assert verify_flashbots_signature(header, body) == identity.address
    with pytest.raises(BadSignature, match="exact body"):
        verify_flashbots_signature(header, body + b" ")
    with pytest.raises(BadSignature, match="missing"):
        verify_flashbots_signature(None, body)
    with pytest.raises(BadSignature, match="malformed"):
        verify_flashbots_signature("nonsense", body)
    with pytest.raises(BadSignature, match="malformed"):
        verify_flashbots_signature(f"{identity.address}:0x1234", body)


def test_call_bundle_returns_integers(stub, identity):
    with client(stub, identity) as relay:
        sim = relay.call_bundle(BUNDLE, state_block=0x1233, timestamp=1_700_000_000)
    assert stub.seen[0]["method"] == "eth_callBundle"
    assert stub.seen[0]["params"] == [
        {
            "txs": list(BUNDLE.txs),
            "blockNumber": "0x1234",
            "stateBlockNumber": "0x1233",
            "timestamp": 1_700_000_000,
        }
    ]
    assert sim.bundle_hash == BUNDLE.hash
    assert sim.coinbase_diff == 20_000_000_000_126_000 and sim.gas_fees == 126_000
    assert sim.eth_sent_to_coinbase == 20 * 10**15 and sim.total_gas_used == 42_000
    assert [r.tx_hash for r in sim.results] == list(BUNDLE.tx_hashes)
    assert not sim.reverted and sim.state_block == 5221585


def test_cancel_bundle(stub, identity):
    with client(stub, identity) as relay:
        sub = relay.cancel_bundle("uuid-1", 0x1234)
    assert sub.ok and sub.method == "eth_cancelBundle" and sub.bundle_hash is None
    assert stub.seen[0]["params"] == [{"replacementUuid": "uuid-1"}]


def test_mev_share_bundle_v0_1(stub, identity):
    mine = signed_tx(0)
    bundle = MevShareBundle(
        body=(MevShareHash("0x" + "cd" * 32), MevShareTx(mine, can_revert=False)),
        block=200,
        max_block=203,
        refund=(Refund(body_idx=0, percent=90),),
        refund_config=(RefundConfig(address="0x" + "33" * 20, percent=100),),
        privacy=Privacy(hints=("calldata", "logs"), builders=("flashbots", "titan")),
    )
    with client(stub, identity) as relay:
        sub = relay.send_mev_bundle(bundle)
    assert sub.ok and sub.method == "mev_sendBundle" and sub.target_block == 200
    assert stub.seen[0]["signer"] == identity.address
    assert stub.seen[0]["params"] == [
        {
            "version": "v0.1",
            "inclusion": {"block": "0xc8", "maxBlock": "0xcb"},
            "body": [{"hash": "0x" + "cd" * 32}, {"tx": mine, "canRevert": False}],
            "validity": {
                "refund": [{"bodyIdx": 0, "percent": 90}],
                "refundConfig": [{"address": "0x" + "33" * 20, "percent": 100}],
            },
            "privacy": {"hints": ["calldata", "logs"], "builders": ["flashbots", "titan"]},
        }
    ]


def test_bloxroute_uses_its_authorization_header_and_params():
    with running("bloxroute") as srv:
        relay = BloxrouteRelay(srv.url, BLX_AUTH, mev_builders={"all": ""}, retry=FAST_RETRY)
        bundle = BundleRequest(
            txs=BUNDLE.txs, block=0x1234, reverting_tx_hashes=("0x" + "ab" * 32,)
        )
        sub = relay.send_bundle(bundle)
        assert sub.ok and sub.method == "blxr_submit_bundle"
        assert sub.relay_bundle_hash == bundle.hash
        seen = srv.seen[0]
        assert seen["params"] == {
            "transaction": [t[2:] for t in bundle.txs],
            "block_number": "0x1234",
            "mev_builders": {"all": ""},
            "reverting_hashes": ["0x" + "ab" * 32],
        }
        assert HEADER not in seen["headers"] and seen["headers"]["Authorization"] == BLX_AUTH
        assert BLX_AUTH not in repr(relay)
        cancel = relay.cancel_bundle("uuid-9", 0x1234)
        assert cancel.ok and srv.seen[1]["params"]["transaction"] == []
        assert srv.seen[1]["params"]["uuid"] == "uuid-9"
        wrong = BloxrouteRelay(srv.url, "wrong", retry=FAST_RETRY).send_bundle(bundle)
        assert wrong.status == "rejected" and "bloXroute Authorization" in wrong.error


def test_500_then_200_is_retried_with_backoff(stub, identity):
    stub.script = ["500", "429"]
    slept: list[float] = []
    with client(stub, identity, sleep=slept.append) as relay:
        sub = relay.send_bundle(BUNDLE)
    assert sub.ok and sub.attempts == 3
    assert len(slept) == 2 and slept[1] >= 0.03  # the 429's Retry-After is honoured
    assert stub.bundles == [(BUNDLE.hash, 0x1234)]


def test_a_relay_that_keeps_failing_is_recorded_as_failed(stub, identity):
    stub.script = ["500"] * 3
    with client(stub, identity, sleep=lambda _: None) as relay:
        sub = relay.send_bundle(BUNDLE)
        with pytest.raises(RelayUnavailable, match="after 3 attempt"):
            sub.raise_for_status()
    assert sub.status == "failed" and sub.attempts == 3 and "HTTP 500" in sub.error


def test_timeout_falls_back_to_the_next_relay_and_is_recorded(identity):
    with running() as slow, running() as spare:
        slow.script = ["hang", "hang"]
        primary = client(
            slow, identity, name="slow", retry=RetryPolicy(max_attempts=2, base_delay=0.0)
        )
        with FanOut([primary], [client(spare, identity, name="spare")]) as fan:
            subs = fan.send_bundle(BUNDLE)
    assert [(s.relay, s.status) for s in subs] == [("slow", "failed"), ("spare", "accepted")]
    assert subs[0].attempts == 2 and "timeout" in subs[0].error
    assert subs[0].latency_ms >= 2 * TIMEOUT * 1000
    assert spare.bundles == [(BUNDLE.hash, 0x1234)] and slow.bundles == []
    assert subs[0].replacement_uuid == subs[1].replacement_uuid is not None


def test_a_relay_that_is_down_falls_back_too(identity):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, never listening
        with running() as spare:
            dead = FlashbotsRelay(
                dead_url, identity, name="dead", retry=FAST_RETRY, sleep=lambda _: None
            )
            with FanOut([dead], [client(spare, identity, name="spare")]) as fan:
                subs = fan.send_bundle(BUNDLE)
    assert [(s.relay, s.status) for s in subs] == [("dead", "failed"), ("spare", "accepted")]
    assert "connection failed" in subs[0].error


def test_fan_out_sends_once_per_relay_and_block_with_one_uuid(identity):
    with running() as a, running() as b:
        relays = [client(a, identity, name="a"), client(b, identity, name="b")]
        with FanOut(relays) as fan:
            first = fan.send_bundle(BUNDLE)
            again = fan.send_bundle(BUNDLE)
            next_block = fan.send_bundle(BundleRequest(txs=BUNDLE.txs, block=BUNDLE.block + 1))
            replaced = fan.send_bundle(
                BundleRequest(
                    txs=(signed_tx(0),),
                    block=BUNDLE.block,
                    replacement_uuid=first[0].replacement_uuid,
                )
            )
            cancels = fan.cancel(first[0].replacement_uuid, BUNDLE.block)
    assert [s.status for s in first] == ["accepted", "accepted"]
    uuids = {s.replacement_uuid for s in first}
    assert len(uuids) == 1 and None not in uuids
    assert [s.status for s in again] == ["duplicate", "duplicate"]
    assert all(s.attempts == 0 and "already has" in s.error for s in again)
    assert [s.status for s in next_block + replaced + cancels] == ["accepted"] * 6
    for srv in (a, b):
        assert srv.bundles == [
            (BUNDLE.hash, BUNDLE.block),
            (BUNDLE.hash, BUNDLE.block + 1),
            (stub_bundle_hash([signed_tx(0)]), BUNDLE.block),
        ]
        sends = [r for r in srv.seen if r["method"] == "eth_sendBundle"]
        assert sends[0]["params"][0]["replacementUuid"] == first[0].replacement_uuid
        assert sends[2]["params"][0]["replacementUuid"] == first[0].replacement_uuid
        assert srv.seen[-1]["method"] == "eth_cancelBundle"
        assert srv.seen[-1]["params"] == [{"replacementUuid": first[0].replacement_uuid}]


def test_two_failing_relays_do_not_share_one_fallback(identity):
    with running() as a, running() as b, running() as spare:
        a.script = ["500"] * 3
        b.script = ["500"] * 3
        relays = [
            client(x, identity, name=n, sleep=lambda _: None) for x, n in ((a, "a"), (b, "b"))
        ]
        with FanOut(relays, [client(spare, identity, name="spare")]) as fan:
            subs = fan.send_bundle(BUNDLE)
            assert [s.status for s in fan.send_bundle(BUNDLE)] == ["duplicate", "duplicate"]
    assert sorted((s.relay, s.status) for s in subs) == [
        ("a", "failed"),
        ("b", "failed"),
        ("spare", "accepted"),
    ]
    assert spare.bundles == [(BUNDLE.hash, BUNDLE.block)]


def test_fan_out_configuration_errors(identity):
    with pytest.raises(ConfigError, match="at least one relay"):
        FanOut([])
    r = FlashbotsRelay("http://127.0.0.1:1", identity, name="x")
    with pytest.raises(ConfigError, match="given twice"):
        FanOut([r], [FlashbotsRelay("http://127.0.0.1:2", identity, name="x")])


def test_relay_names_and_urls(identity, monkeypatch):
    monkeypatch.delenv("WORKBENCH_BLOXROUTE_AUTH", raising=False)
    fb = relay_from("flashbots", identity)
    assert isinstance(fb, FlashbotsRelay) and fb.name == "flashbots"
    assert fb.url == live.relays.KNOWN_RELAYS["flashbots"][0]
    local = relay_from("http://127.0.0.1:8547", identity, timeout=0.5)
    assert isinstance(local, FlashbotsRelay) and local.name == "127.0.0.1:8547"
    assert relay_name("https://user:s3cret@relay.example:8443/path?key=k") == "relay.example:8443"
    with pytest.raises(ConfigError, match="unknown relay"):
        relay_from("nosuchrelay", identity)
    with pytest.raises(ConfigError, match="WORKBENCH_BLOXROUTE_AUTH"):
        relay_from("bloxroute", identity)
    monkeypatch.setenv("WORKBENCH_BLOXROUTE_AUTH", BLX_AUTH)
    assert isinstance(relay_from("bloxroute", identity), BloxrouteRelay)
    with pytest.raises(ConfigError, match="not an HTTP"):
        FlashbotsRelay("ftp://x", identity)


def test_bundles_are_validated():
    with pytest.raises(ConfigError, match="at least one"):
        BundleRequest(txs=(), block=1)
    with pytest.raises(ConfigError, match="not a 0x-hex"):
        BundleRequest(txs=("0xabc",), block=1)
    with pytest.raises(ConfigError, match="min <= max"):
        BundleRequest(txs=BUNDLE.txs, block=1, min_timestamp=5, max_timestamp=4)
    with pytest.raises(ConfigError, match="hints"):
        Privacy(hints=("everything",))
    with pytest.raises(ConfigError, match="max_block"):
        MevShareBundle(body=(MevShareTx(signed_tx(0)),), block=5, max_block=4)
    with pytest.raises(ConfigError, match="not an address"):
        MevShareBundle(
            body=(MevShareTx(signed_tx(0)),), block=5, refund_config=(RefundConfig("0x12", 100),)
        )


def test_exports():
    assert sorted(live.relays.__all__) == sorted(set(live.relays.__all__))
    for name in live.relays.__all__:
        assert hasattr(live.relays, name), name
