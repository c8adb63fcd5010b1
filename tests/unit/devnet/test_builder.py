"""The devnet builder's choice of bundles and its relay's request handling, without a node:
trial blocks are scripted (payment per transaction, and which transactions fail)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest
from eth_account import Account

from devnet import builder
from devnet.builder import BlockSlot, RelayBundle, TrialBlock, TxResult, select_bundles
from devnet.relay_server import (
    CallRequest,
    InvalidParams,
    RelayServer,
    UnknownMethod,
    call_bundle_result,
)
from live.relays import BundleRequest, MevShareBundle, MevShareHash, MevShareTx
from live.relays.client import _call_bundle_result
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.flashbots import bundle_hash, tx_hash

KEY = Account.from_key("0x" + "33" * 32)
SLOT = BlockSlot(10, 1_000, "0x" + "c0" * 20)
SIGNER = "0x" + "5e" * 20
NO_NODE = cast(AnvilControl, None)  # trial blocks are scripted
NONCE: dict[str, int] = {}  # raw -> its nonce


def raw(nonce: int, value: int = 1) -> str:
    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": nonce,
        "to": "0x" + "22" * 20,
        "value": value,
        "gas": 21000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    signed = KEY.sign_transaction(tx).raw_transaction.to_0x_hex()
    NONCE[signed] = nonce
    return signed


def scripted(
    monkeypatch: pytest.MonkeyPatch, pays: dict[str, int], bad: Sequence[str] = ()
) -> None:
    """Each raw pays ``pays[raw]``; a raw in ``bad`` reverts; a raw twice in a block (the
    same nonce) cannot be sent."""

    def trial(
        node: Any, raws: Sequence[str], slot: BlockSlot, *, trace: bool = False
    ) -> TrialBlock:
        assert slot == SLOT
        nonces = [NONCE[r] for r in raws]
        error = "nonce too low" if len(set(nonces)) < len(nonces) else None
        txs = tuple(
            TxResult(tx_hash(r), SIGNER, None, int(r not in bad), 21000, 2, 21000) for r in raws
        )
        return TrialBlock(txs, sum(pays.get(r, 0) for r in raws), 1, error)

    monkeypatch.setattr(builder, "trial", trial)


def bundle(seq: int, *items: str, **kw: Any) -> RelayBundle:
    hashes = [i if len(i) == 66 else tx_hash(i) for i in items]
    return RelayBundle(
        hash=bundle_hash(hashes),
        items=items,
        block=kw.pop("block", SLOT.number),
        max_block=kw.pop("max_block", SLOT.number),
        signer=SIGNER,
        method="eth_sendBundle",
        received_at=0.0,
        seq=seq,
        **kw,
    )


def test_highest_payment_first_ties_by_arrival_and_conflicts_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, c, d = raw(0, 1), raw(0, 2), raw(1), raw(2)
    scripted(monkeypatch, {a: 5, b: 9, c: 5, d: 5})
    # b beats a (same nonce: a cannot go on top of b); c and d tie: d arrived first
    chosen = select_bundles(
        NO_NODE, [bundle(0, a), bundle(1, d), bundle(2, c), bundle(3, b)], SLOT, {}
    )
    assert [i.raws for i in chosen.included] == [(b,), (d,), (c,)]
    assert [i.payment for i in chosen.included] == [9, 5, 5]
    (lost,) = chosen.rejected
    assert lost.bundle.items == (a,) and "higher-paying" in lost.reason


def test_ties_go_to_the_first_received(monkeypatch: pytest.MonkeyPatch) -> None:
    c, d = raw(1), raw(2)
    scripted(monkeypatch, {c: 5, d: 5})
    chosen = select_bundles(NO_NODE, [bundle(1, d), bundle(0, c)], SLOT, {})
    assert [i.raws for i in chosen.included] == [(c,), (d,)]


def test_reverts_timestamps_unknown_pending_duplicates_and_no_payment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, c, d = raw(0), raw(1), raw(2), raw(3)
    scripted(monkeypatch, {a: 3, b: 4, d: 2}, bad=[a])
    victim = "0x" + "ab" * 32
    bundles = [
        bundle(0, a),  # reverts
        bundle(1, a, b, may_revert=frozenset({tx_hash(a)})),  # allowed to
        bundle(2, d, min_timestamp=SLOT.timestamp + 1),
        bundle(3, victim, d),  # its pending target is not pending
        bundle(4, c),  # pays nothing
        bundle(5, a, b, may_revert=frozenset({tx_hash(a)})),  # a duplicate of 1
    ]
    chosen = select_bundles(NO_NODE, bundles, SLOT, {})
    assert [(i.bundle.seq, i.payment) for i in chosen.included] == [(1, 7)]
    reasons = {r.bundle.seq: r.reason for r in chosen.rejected}
    assert set(reasons) == {0, 2, 3, 4}
    assert "reverts" in reasons[0] and "timestamps" in reasons[2]
    assert "not a pending" in reasons[3] and "nothing" in reasons[4]
    with_target = select_bundles(NO_NODE, [bundle(3, victim, d)], SLOT, {victim: c})
    assert with_target.raws == [c, d]


# ---- the relay's requests ------------------------------------------------------------------


def relay() -> RelayServer:
    return RelayServer(lambda request: (TrialBlock((), 0, 0), 0))


def test_bundle_hashes_agree_with_the_live_clients() -> None:
    r, txs = relay(), (raw(0), raw(1))
    sent = BundleRequest(txs=txs, block=12, replacement_uuid="u", min_timestamp=5)
    got = r.handle("eth_sendBundle", [sent.flashbots_params()], SIGNER)
    assert got == {"bundleHash": sent.hash}
    (b,) = r.bundles_for(12)
    assert b.min_timestamp == 5 and b.replacement_uuid == "u" and b.tx_hashes == sent.tx_hashes
    share = MevShareBundle(
        body=(MevShareHash("0x" + "ab" * 32), MevShareTx(raw(2), can_revert=True)),
        block=12,
        max_block=14,
    )
    assert r.handle("mev_sendBundle", [share.params()], SIGNER) == {"bundleHash": share.hash}
    assert [len(x.items) for x in r.bundles_for(14)] == [2]
    assert r.bundles_for(14)[0].may_revert == {tx_hash(raw(2))}
    assert r.bundles_for(15) == []


def test_replacement_and_cancel_by_uuid_of_the_same_signer() -> None:
    r = relay()
    first = BundleRequest(txs=(raw(0),), block=12, replacement_uuid="u")
    second = BundleRequest(txs=(raw(1),), block=12, replacement_uuid="u")
    r.handle("eth_sendBundle", [first.flashbots_params()], SIGNER)
    r.handle("eth_sendBundle", [first.flashbots_params()], "0x" + "77" * 20)  # another signer
    r.handle("eth_sendBundle", [second.flashbots_params()], SIGNER)
    assert [(b.hash, b.signer) for b in r.bundles_for(12)] == [
        (first.hash, "0x" + "77" * 20),
        (second.hash, SIGNER),
    ]
    r.handle("eth_cancelBundle", [{"replacementUuid": "u"}], SIGNER)
    assert [b.signer for b in r.bundles_for(12)] == ["0x" + "77" * 20]
    assert len(r.received) == 3


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_sendBundle", []),
        ("eth_sendBundle", [{"txs": [], "blockNumber": "0x1"}]),
        ("eth_sendBundle", [{"txs": ["0x" + "ab" * 32], "blockNumber": "0x1"}]),
        ("eth_sendBundle", [{"txs": [raw(0)], "blockNumber": "soon"}]),
        ("eth_sendBundle", [{"txs": [raw(0)], "blockNumber": "0x1", "minTimestamp": -1}]),
        ("mev_sendBundle", [{"version": "v0.2", "inclusion": {"block": "0x1"}, "body": []}]),
        ("mev_sendBundle", [{"version": "v0.1", "inclusion": {"block": "0x1"}, "body": []}]),
        ("eth_cancelBundle", [{}]),
    ],
)
def test_bad_params_are_refused(method: str, params: Any) -> None:
    with pytest.raises(InvalidParams):
        relay().handle(method, params, SIGNER)


def test_unknown_methods_and_bad_injections() -> None:
    with pytest.raises(UnknownMethod):
        relay().handle("eth_sendRawTransaction", ["0x"], SIGNER)
    for kw in ({}, {"status": 500, "delay": 1.0}, {"status": 500, "count": 0}):
        with pytest.raises(ValueError):
            relay().inject(**kw)


def test_call_bundle_results_parse_in_the_live_client() -> None:
    txs = (raw(0), raw(1))
    run = TrialBlock(
        (
            TxResult(tx_hash(txs[0]), SIGNER, None, 1, 21000, 3, 42000, to_coinbase=7),
            TxResult(tx_hash(txs[1]), SIGNER, None, 0, 30000, 3, 60000, error="no"),
        ),
        coinbase_diff=102007,
        base_fee=1,
    )
    parsed = _call_bundle_result(call_bundle_result(run, txs, 99))
    assert parsed.bundle_hash == BundleRequest(txs=txs, block=1).hash
    assert (parsed.state_block, parsed.coinbase_diff, parsed.gas_fees) == (99, 102007, 102000)
    assert parsed.eth_sent_to_coinbase == 7 and parsed.total_gas_used == 51000
    assert [(t.gas_used, t.coinbase_diff, t.error) for t in parsed.results] == [
        (21000, 42007, None),
        (30000, 60000, "execution reverted"),
    ]
    with pytest.raises(InvalidParams, match="cannot be simulated"):
        call_bundle_result(TrialBlock((), 0, 1, "nonce too low"), txs, 99)
    assert CallRequest(txs, 12, None, None).state_block is None
