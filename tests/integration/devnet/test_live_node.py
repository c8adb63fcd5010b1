"""The live devnet (DevnetNode) on the default devnet dataset: the replayed chain, the pending
stream, the builder relay (bundles, auctions, faults) and node restarts; all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import typer
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from devnet import ensure_default_dataset
from devnet.live_node import DevnetNode
from live.relays import (
    BundleRequest,
    FlashbotsRelay,
    MevShareBundle,
    MevShareHash,
    MevShareTx,
    tx_hash,
)
from live.settings import load_settings
from live.signer import SearcherIdentity
from workbench.cli import app as cli_app
from workbench.engine.fidelity import compare
from workbench.errors import WorkbenchError
from workbench.rpc import RetryPolicy, RpcClient, RpcTransportError, WsClient
from workbench.sources.block_view import BlockData, load_blocks
from workbench.sources.dataset import Dataset

FIRST = 600
GWEI = 10**9
E18 = 10**18


@pytest.fixture(scope="module")
def root() -> Path:
    return ensure_default_dataset()


def recorded(root: Path, first: int, last: int) -> dict[int, BlockData]:
    return {b.number: b for b in load_blocks(Dataset.open(root), first, last)}


def pay(account: LocalAccount, nonce: int, to: str, value: int, tip: int = GWEI) -> str:
    """A signed transfer of ``value`` wei to ``to`` (the coinbase: a direct payment)."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": 31337,
        "nonce": nonce,
        "to": to,
        "value": value,
        "gas": 21000,
        "maxFeePerGas": 300 * GWEI,
        "maxPriorityFeePerGas": tip,
    }
    return account.sign_transaction(tx).raw_transaction.to_0x_hex()


def post(url: str, method: str, params: Any, key: LocalAccount | None) -> httpx.Response:
    body = orjson.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
    headers = {"Content-Type": "application/json"}
    if key is not None:
        sig = key.sign_message(encode_defunct(text="0x" + keccak(body).hex())).signature
        headers["X-Flashbots-Signature"] = f"{key.address}:{sig.to_0x_hex()}"
    return httpx.post(url, content=body, headers=headers, timeout=5)


# ---- the chain without bundles is the dataset ---------------------------------------------


def test_without_bundles_the_chain_is_the_dataset_and_pending_txs_come_first(root: Path) -> None:
    want = recorded(root, FIRST, FIRST + 3)
    seen: list[tuple[str, int]] = []  # (pending tx hash, devnet head when it arrived)

    async def listen(node: DevnetNode, until: int) -> None:
        async with WsClient(node.ws_url) as ws:
            sub = await ws.subscribe("newPendingTransactions", True)
            while node.head < until:
                try:
                    tx = await asyncio.wait_for(sub.__anext__(), 0.2)
                except TimeoutError:
                    continue
                assert isinstance(tx, dict) and tx["from"]  # full transaction objects
                seen.append((tx["hash"], node.head))

    with DevnetNode(root, block_time=0.6, first_block=FIRST) as node:
        asyncio.run(listen(node, FIRST + 3))
        rpc = RpcClient(node.rpc_url)
        for n in range(FIRST, FIRST + 4):
            built = node.wait_for_block(n, 10)
            block = want[n]
            assert built.hash == rpc.call("eth_getBlockByNumber", [hex(n), False])["hash"]
            assert built.hash == Dataset.open(root).read("blocks", (n, n))["hash"][0]
            assert built.recorded_included == len(block.transactions) and not built.skipped
            for tx in block.transactions:
                got = rpc.call("eth_getTransactionReceipt", [tx["hash"]])
                assert (
                    compare(tx["hash"], got, block.receipts[tx["hash"]], block.logs_of(tx["hash"]))
                    is None
                )
    for n in range(FIRST + 1, FIRST + 3):  # blocks whose whole slot was watched
        order = [h for h, head in seen if h in {t["hash"] for t in want[n].transactions}]
        assert order == [t["hash"] for t in want[n].transactions]
        assert all(head < n for h, head in seen if h in order)  # announced before it was mined


# ---- the builder relay ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def searcher() -> LocalAccount:
    return Account.create()


@pytest.fixture(scope="module")
def devnet(root: Path, searcher: LocalAccount) -> Iterator[DevnetNode]:
    with DevnetNode(root, block_time=0.8, first_block=FIRST, searchers=[searcher.address]) as node:
        node.wait_for_block(FIRST, 10)
        yield node


def nonce(node: DevnetNode, who: str) -> int:
    return int(RpcClient(node.rpc_url).call("eth_getTransactionCount", [who, "latest"]), 16)


def block_txs(node: DevnetNode, n: int) -> list[str]:
    return list(
        RpcClient(node.rpc_url).call("eth_getBlockByNumber", [hex(n), False])["transactions"]
    )


def test_the_searcher_is_funded_with_an_executor(
    devnet: DevnetNode, searcher: LocalAccount
) -> None:
    rpc = RpcClient(devnet.rpc_url)
    executor = devnet.executors[searcher.address]
    assert len(rpc.call("eth_getCode", [executor, "latest"])) > 1000
    assert int(rpc.call("eth_getBalance", [searcher.address, "latest"]), 16) == 10**20
    weth = rpc.call(
        "eth_call",
        [
            {"to": devnet.market.weth, "data": "0x70a08231" + executor[2:].lower().rjust(64, "0")},
            "latest",
        ],
    )
    assert int(weth, 16) == 100 * E18


def test_the_higher_paying_of_two_conflicting_bundles_lands_on_top(
    devnet: DevnetNode, searcher: LocalAccount
) -> None:
    identity = SearcherIdentity.generate()
    coinbase = devnet.coinbase
    n = nonce(devnet, searcher.address)
    cheap, dear = pay(searcher, n, coinbase, E18 // 100), pay(searcher, n, coinbase, E18 // 50)
    target = devnet.head + 2
    with closing(FlashbotsRelay(devnet.relay_url, identity)) as relay:
        for raw in (cheap, dear, cheap):  # the same bundle twice counts once
            sub = relay.send_bundle(BundleRequest(txs=(raw,), block=target))
            assert sub.status == "accepted" and sub.relay_bundle_hash == sub.bundle_hash
    built = devnet.wait_for_block(target, 10)
    (won,) = built.bundles
    assert won.tx_hashes == (tx_hash(dear),) and won.signer == identity.address
    assert E18 // 50 < won.payment <= E18 // 50 + 21000 * GWEI
    assert [r.hash for r in built.rejected] == [BundleRequest(txs=(cheap,), block=1).hash]
    assert block_txs(devnet, target)[0] == tx_hash(dear)
    assert nonce(devnet, searcher.address) == n + 1
    accepted = [b for b in devnet.relay.received if b.block == target]
    assert len(accepted) == 3 and {b.signer for b in accepted} == {identity.address}


def test_without_inclusion_the_relay_records_bundles_and_the_chain_stays_recorded(
    root: Path,
) -> None:
    """``include_bundles=False`` (``devnet up --no-include-bundles``): a paying bundle is taken
    and recorded, and the block mined holds the recorded transactions all the same (its hash
    differs: the searcher's funded Executor is in the state)."""
    searcher, identity = Account.create(), SearcherIdentity.generate()
    with DevnetNode(
        root, block_time=0.8, first_block=FIRST, searchers=[searcher.address], include_bundles=False
    ) as node:
        node.wait_for_block(FIRST, 10)
        target = node.head + 2
        bribe = pay(searcher, nonce(node, searcher.address), node.coinbase, E18 // 50)
        with closing(FlashbotsRelay(node.relay_url, identity)) as relay:
            sub = relay.send_bundle(BundleRequest(txs=(bribe,), block=target))
        assert sub.status == "accepted"
        built = node.wait_for_block(target, 10)
        assert built.bundles == () and [b.block for b in node.relay.received] == [target]
        recorded_txs = recorded(root, target, target)[target].transactions
        assert block_txs(node, target) == [t["hash"] for t in recorded_txs]


def test_a_reverting_bundle_is_left_out_unless_its_revert_is_allowed(
    devnet: DevnetNode, searcher: LocalAccount
) -> None:
    weth = devnet.market.weth
    n = nonce(devnet, searcher.address)
    withdraw = "0x2e1a7d4d" + (10**30).to_bytes(32, "big").hex()  # more WETH than it holds
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": 31337,
        "to": weth,
        "data": withdraw,
        "gas": 60000,
        "maxFeePerGas": 300 * GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    reverts = searcher.sign_transaction({**tx, "nonce": n}).raw_transaction.to_0x_hex()
    allowed = searcher.sign_transaction({**tx, "nonce": n + 1}).raw_transaction.to_0x_hex()
    target = devnet.head + 2
    key = Account.create()
    post(devnet.relay_url, "eth_sendBundle", [{"txs": [reverts], "blockNumber": hex(target)}], key)
    post(
        devnet.relay_url,
        "eth_sendBundle",
        [
            {
                "txs": [reverts, allowed, pay(searcher, n + 2, devnet.coinbase, 10**15)],
                "blockNumber": hex(target),
                "revertingTxHashes": [tx_hash(reverts), tx_hash(allowed)],
            }
        ],
        key,
    )
    built = devnet.wait_for_block(target, 10)
    (rejected,) = built.rejected
    assert "reverts" in rejected.reason and rejected.signer == key.address
    (kept,) = built.bundles
    assert len(kept.tx_hashes) == 3 and kept.payment > 10**15
    assert block_txs(devnet, target)[:3] == list(kept.tx_hashes)


def test_call_bundle_and_cancel_bundle(devnet: DevnetNode, searcher: LocalAccount) -> None:
    identity = SearcherIdentity.generate()
    n = nonce(devnet, searcher.address)
    raw = pay(searcher, n, devnet.coinbase, 10**16, tip=2 * GWEI)
    with closing(FlashbotsRelay(devnet.relay_url, identity)) as relay:
        sim = relay.call_bundle(BundleRequest(txs=(raw,), block=devnet.head + 1))
        assert sim.bundle_hash == BundleRequest(txs=(raw,), block=1).hash
        (one,) = sim.results
        assert one.tx_hash == tx_hash(raw) and one.gas_used == 21000 and one.error is None
        assert sim.eth_sent_to_coinbase == 10**16 and sim.gas_fees == 2 * GWEI * 21000
        assert sim.coinbase_diff == one.coinbase_diff == 10**16 + 2 * GWEI * 21000
        assert sim.state_block >= FIRST and sim.total_gas_used == 21000
        target = devnet.head + 2
        relay.send_bundle(BundleRequest(txs=(raw,), block=target, replacement_uuid="u-1"))
        assert relay.cancel_bundle("u-1", target).status == "accepted"
    built = devnet.wait_for_block(target, 10)
    assert not built.bundles and not built.rejected
    assert nonce(devnet, searcher.address) == n  # nothing of ours landed
    assert len(block_txs(devnet, target)) == built.tx_count


def test_a_mev_share_backrun_lands_right_after_its_pending_target(
    root: Path, devnet: DevnetNode, searcher: LocalAccount
) -> None:
    target = devnet.head + 2
    victim = recorded(root, target, target)[target].transactions[0]["hash"]
    raw = pay(searcher, nonce(devnet, searcher.address), devnet.coinbase, 10**15)
    bundle = MevShareBundle(body=(MevShareHash(victim), MevShareTx(raw)), block=target)
    with closing(FlashbotsRelay(devnet.relay_url, SearcherIdentity.generate())) as relay:
        assert relay.send_mev_bundle(bundle).status == "accepted"
    built = devnet.wait_for_block(target, 10)
    assert [b.hash for b in built.bundles] == [bundle.hash]
    assert block_txs(devnet, target)[:2] == [victim, tx_hash(raw)]
    assert not built.skipped and built.recorded_included == built.tx_count - 1


def test_requests_without_a_valid_signature_are_refused_and_not_recorded(
    devnet: DevnetNode, searcher: LocalAccount
) -> None:
    before = len(devnet.relay.received)
    params = [{"txs": [pay(searcher, 0, devnet.coinbase, 1)], "blockNumber": hex(devnet.head + 5)}]
    missing = post(devnet.relay_url, "eth_sendBundle", params, None)
    assert missing.status_code == 403 and "missing" in missing.json()["error"]["message"]
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendBundle", "params": params})
    key = Account.create()
    sig = key.sign_message(encode_defunct(text="0x" + keccak(body + b" ").hex())).signature
    wrong = httpx.post(
        devnet.relay_url,
        content=body,
        headers={"X-Flashbots-Signature": f"{key.address}:{sig.to_0x_hex()}"},
    )
    assert wrong.status_code == 403 and "not by" in wrong.json()["error"]["message"]
    assert len(devnet.relay.received) == before


def test_malformed_requests_get_json_rpc_errors(devnet: DevnetNode) -> None:
    key = Account.create()
    url = devnet.relay_url
    body = b"{not json"
    sig = key.sign_message(encode_defunct(text="0x" + keccak(body).hex())).signature
    bad = httpx.post(
        url, content=body, headers={"X-Flashbots-Signature": f"{key.address}:{sig.to_0x_hex()}"}
    )
    assert bad.json()["error"]["code"] == -32700
    assert post(url, "eth_sendBundle", [{"txs": "0x12"}], key).json()["error"]["code"] == -32602
    assert (
        post(url, "eth_sendBundle", [{"txs": ["0x" + "ab" * 40]}], key).json()["error"]["code"]
        == -32602
    )
    assert post(url, "eth_sendRawTransaction", ["0x"], key).json()["error"]["code"] == -32601


def test_injected_faults(devnet: DevnetNode, searcher: LocalAccount) -> None:
    identity = SearcherIdentity.generate()
    bundle = BundleRequest(txs=(pay(searcher, 0, devnet.coinbase, 1),), block=devnet.head + 50)
    fast = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    with closing(FlashbotsRelay(devnet.relay_url, identity, retry=fast, timeout=0.3)) as relay:
        devnet.relay.inject(status=500, count=1)
        sub = relay.send_bundle(bundle)
        assert sub.status == "accepted" and sub.attempts == 2
        devnet.relay.inject(status=503, count=3)
        sub = relay.send_bundle(bundle)
        assert sub.status == "failed" and "HTTP 503" in (sub.error or "")
        devnet.relay.inject(delay=1.0, count=1)
        t = time.monotonic()
        sub = relay.send_bundle(bundle)  # the first try times out, the retry is answered
        assert sub.status == "accepted" and sub.attempts == 2 and time.monotonic() - t < 1.0
    with pytest.raises(ValueError):
        devnet.relay.inject(count=1)


# ---- faults of the node itself --------------------------------------------------------------


def test_restart_node_keeps_the_chain_and_mining_continues(root: Path) -> None:
    with DevnetNode(root, block_time=0.4, first_block=FIRST) as node:
        before = node.wait_for_block(FIRST + 1, 10)
        node.restart_node(0.5)
        rpc = RpcClient(node.rpc_url)
        assert rpc.call("eth_getBlockByNumber", [hex(before.number), False])["hash"] == before.hash
        later = node.wait_for_block(node.head + 2, 10)
        blocks = [
            rpc.call("eth_getBlockByNumber", [hex(n), False])
            for n in range(FIRST, later.number + 1)
        ]
        assert all(b["parentHash"] == a["hash"] for a, b in itertools.pairwise(blocks))
        want = (
            Dataset.open(root)
            .read("blocks", (FIRST, later.number))
            .sort("number")["hash"]
            .to_list()
        )
        assert [b["hash"] for b in blocks] == want  # the same chain, only later


def test_cli_devnet_up_writes_its_info_and_stops_on_sigint(root: Path, tmp_path: Path) -> None:
    info = tmp_path / "devnet-up.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "devnet",
            "up",
            "--dataset",
            str(root),
            "--block-time",
            "0.3",
            "--from-block",
            str(FIRST),
            "--searcher",
            Account.create().address,
            "--info",
            str(info),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 30
        while not info.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        up = json.loads(info.read_text())
        assert up["first_block"] == FIRST and up["chain_id"] == 31337
        rpc = RpcClient(up["rpc_url"])
        while int(rpc.call("eth_blockNumber"), 16) < FIRST + 1:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode()
    assert proc.returncode == 0, text
    assert up["rpc_url"] in text and "workbench live" in text and f"block {FIRST}" in text
    # the suggested command parses: every option `workbench live` requires is there
    (hint,) = [line for line in text.splitlines() if line.startswith("try: workbench live ")]
    live = typer.main.get_command(cli_app).commands["live"]  # type: ignore[attr-defined]
    given = live.make_context("live", shlex.split(hint.removeprefix("try: workbench live "))).params
    settings = load_settings(
        None,
        {k: given[k] for k in ("rpc", "ws", "strategy", "capital_cap", "mode", "market")},
    )
    assert settings.mode == "shadow" and settings.market == Path(up["market_file"])
    with pytest.raises(RpcTransportError):  # Anvil is gone
        RpcClient(up["rpc_url"], retry=RetryPolicy(max_attempts=1)).call("eth_blockNumber")


def test_after_the_dataset_empty_blocks_follow_every_slot(root: Path) -> None:
    last = int(Dataset.open(root).block_range[1])  # type: ignore[index]
    with DevnetNode(root, block_time=0.3, first_block=last) as node:
        end = node.wait_for_block(last, 10)
        after = [node.wait_for_block(last + i, 10) for i in (1, 2)]
    assert [b.tx_count for b in after] == [0, 0]
    assert [b.timestamp - end.timestamp for b in after] == [12, 24]


def test_a_failure_in_the_driver_is_raised_not_swallowed(root: Path) -> None:
    node = DevnetNode(root, block_time=0.3, first_block=FIRST).start()
    try:
        node.wait_for_block(FIRST, 10)
        assert node._node is not None and node._node.proc is not None
        node._node.proc.kill()  # the node dies under the driver
        with pytest.raises(WorkbenchError):
            node.wait_for_block(FIRST + 5, 10)
    finally:
        with pytest.raises(WorkbenchError):
            node.stop()
    node.stop()  # raised once; stopping again is quiet
