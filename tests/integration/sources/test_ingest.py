"""Block ingest against a real Anvil chain (a deployed Uniswap market plus transactions signed
here, so their raw bytes are known), and offline from a vcrpy cassette recorded from one."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import vcr
from eth_account import Account
from eth_utils import keccak

import workbench.rpc.client as rpc_client
from workbench.chain.abi import encode_call
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.deploy import deploy_market
from workbench.chain.market_spec import DeployedMarket, MarketSpec, TokenSpec, V2DexSpec, V2PairSpec
from workbench.chain.tools import project_root
from workbench.errors import DatasetError
from workbench.rpc import RpcClient, RpcError
from workbench.sources import ingest as ingest_module
from workbench.sources import raw_tx
from workbench.sources.dataset import Dataset
from workbench.sources.ingest import ingest_blocks
from workbench.sources.schema import BLOCK_TABLES

Account.enable_unaudited_hdwallet_features()
MNEMONIC = "test test test test test test test test test test test junk"  # Anvil's default
ALICE, BOB = (Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in (3, 4))
# Creation code whose contract returns 42: exercises receipts with a contract address.
CREATE_42 = "0x600a600c600039600a6000f3602a60005260206000f3"
NO_CODE = "0x000000000000000000000000000000000000dEaD"  # BOB delegates to no code: calls succeed
SMALL_SPEC = MarketSpec(
    tokens=(TokenSpec(symbol="TKA"),),
    v2_dexes=(V2DexSpec(name="uniswap"),),
    v2_pairs=(
        V2PairSpec(
            dex="uniswap", token_a="WETH", token_b="TKA", reserve_a=10**20, reserve_b=2 * 10**23
        ),
    ),
    executor=False,
)
CASSETTE = Path(__file__).parents[3] / "fixtures/cassettes/ingest/anvil_chain.yaml"
EXPECTED = CASSETTE.with_name("anvil_chain.expected.json")


def add_activity(node: Anvil, market: DeployedMarket) -> dict[str, Any]:
    """Two blocks of transactions signed here: legacy, EIP-2930, EIP-1559 (a swap through the
    real Uniswap V2 router, and a contract creation) and EIP-7702. Returns them signed, by name."""
    cid = market.chain_id
    nonce = int(node.rpc.call("eth_getTransactionCount", [ALICE.address, "latest"]), 16)
    fees = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "chainId": cid}
    path = [market.weth, market.token("TKA")]
    swap = encode_call(
        "UniswapV2Router02", "swapExactETHForTokens", [0, path, ALICE.address, 2**40]
    )
    bob_nonce = int(node.rpc.call("eth_getTransactionCount", [BOB.address, "latest"]), 16)
    auth = BOB.sign_authorization({"chainId": cid, "address": NO_CODE, "nonce": bob_nonce})
    txs = {
        "legacy": {
            "to": BOB.address,
            "value": 10**15,
            "gas": 21_000,
            "gasPrice": 10**10,
            "chainId": cid,
        },
        "access_list": {
            "type": 1,
            "to": BOB.address,
            "value": 1,
            "gas": 40_000,
            "gasPrice": 10**10,
            "chainId": cid,
            "accessList": [{"address": market.weth, "storageKeys": ["0x" + "00" * 32]}],
        },
        "swap": {
            "to": market.v2_routers["uniswap"],
            "value": 10**17,
            "data": swap,
            "gas": 300_000,
            **fees,
        },
        "create": {"data": CREATE_42, "value": 0, "gas": 100_000, **fees},
        "set_code": {
            "to": BOB.address,
            "value": 0,
            "gas": 100_000,
            "authorizationList": [auth],
            **fees,
        },
    }
    signed = {
        name: ALICE.sign_transaction({**tx, "nonce": nonce + i})
        for i, (name, tx) in enumerate(txs.items())
    }
    node.set_automine(False)
    try:
        for i, s in enumerate(signed.values()):
            node.rpc.call("eth_sendRawTransaction", ["0x" + s.raw_transaction.hex()])
            if i in (1, len(signed) - 1):
                node.mine()
    finally:
        node.set_automine(True)
    for name, s in signed.items():
        receipt = node.rpc.call("eth_getTransactionReceipt", ["0x" + s.hash.hex()])
        assert receipt["status"] == "0x1", name
    return signed


@pytest.fixture(scope="module")
def chain(market_node: tuple[Anvil, DeployedMarket]) -> tuple[Anvil, dict[str, Any]]:
    node, market = market_node
    return node, add_activity(node, market)


def tables(path: Path) -> dict[str, Any]:
    ds = Dataset.open(path)
    return {t: ds.read(t) for t in BLOCK_TABLES}


def test_rows_equal_what_the_node_returns(
    chain: tuple[Anvil, dict[str, Any]], tmp_path: Path
) -> None:
    node, signed = chain
    head = node.block_number()
    report = ingest_blocks(node.rpc, tmp_path / "d", 0, head, chunk_blocks=16, batch_size=50)
    assert (report.blocks, report.raw_missing) == (head + 1, 0)
    t = tables(tmp_path / "d")
    node_blocks = node.rpc.batch(
        [("eth_getBlockByNumber", [hex(n), False]) for n in range(head + 1)]
    )
    assert t["blocks"]["hash"].to_list() == [b["hash"] for b in node_blocks]
    assert t["blocks"]["timestamp"].to_list() == [int(b["timestamp"], 16) for b in node_blocks]
    hashes = [h for b in node_blocks for h in b["transactions"]]
    assert (
        t["transactions"]["hash"].to_list() == hashes == t["receipts"]["transaction_hash"].to_list()
    )

    rows = {r["hash"]: r for r in t["transactions"].iter_rows(named=True)}
    for r in rows.values():  # every raw transaction is the signed transaction
        assert "0x" + keccak(bytes.fromhex(r["raw"][2:])).hex() == r["hash"]
    for s in signed.values():  # and byte for byte the one signed here
        assert rows["0x" + s.hash.hex()]["raw"] == "0x" + s.raw_transaction.hex()
    swap = rows["0x" + signed["swap"].hash.hex()]
    assert (swap["type"], swap["value"], swap["from"]) == (2, str(10**17), ALICE.address.lower())
    assert {r["type"] for r in rows.values()} == {0, 1, 2, 4}

    node_receipts = node.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
    receipts = t["receipts"]
    assert receipts["gas_used"].to_list() == [int(r["gasUsed"], 16) for r in node_receipts]
    assert receipts["effective_gas_price"].to_list() == [
        str(int(r["effectiveGasPrice"], 16)) for r in node_receipts
    ]
    assert receipts["contract_address"].to_list() == [r["contractAddress"] for r in node_receipts]

    node_logs = node.rpc.call("eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(head)}])
    logs = t["logs"].select("block_number", "log_index", "address", "topics", "data").rows()
    assert logs == [
        (int(g["blockNumber"], 16), int(g["logIndex"], 16), g["address"], g["topics"], g["data"])
        for g in node_logs
    ]
    swap_logs = t["logs"].filter(t["logs"]["transaction_hash"] == swap["hash"])
    swap_topic = "0x" + keccak(text="Swap(address,uint256,uint256,uint256,uint256,address)").hex()
    assert swap_topic in {topics[0] for topics in swap_logs["topics"]}


LACKING = ("eth_getBlockReceipts", "eth_getRawTransactionByHash")


class OldNode(RpcClient):
    """A node without eth_getBlockReceipts and eth_getRawTransactionByHash."""

    def batch(self, calls: Any) -> list[Any]:
        return [
            RpcError(-32601, "the method does not exist/is not available", method=m)
            if m in LACKING
            else r
            for (m, _), r in zip(calls, super().batch(calls), strict=True)
        ]


def test_fallbacks_give_the_same_rows(
    chain: tuple[Anvil, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, _ = chain
    head = node.block_number()
    report = ingest_blocks(node.rpc, tmp_path / "a", 0, head)
    assert report.raw_from_node == 0  # every transaction re-encoded to its hash
    with OldNode(node.url) as old:
        report = ingest_blocks(old, tmp_path / "b", 0, head, chunk_blocks=7)
    assert report.receipts_via == "eth_getTransactionReceipt" and report.raw_missing == 0
    monkeypatch.setattr(raw_tx, "encode_signed", lambda tx: None)  # types we cannot encode
    report = ingest_blocks(node.rpc, tmp_path / "c", 0, head)
    assert report.raw_from_node == report.transactions and report.raw_missing == 0
    a, b, c = tables(tmp_path / "a"), tables(tmp_path / "b"), tables(tmp_path / "c")
    for name in BLOCK_TABLES:
        assert a[name].equals(b[name]) and a[name].equals(c[name]), name
    with OldNode(node.url) as old:  # neither way: raw stays null
        report = ingest_blocks(old, tmp_path / "d", 0, head)
    assert report.raw_missing == report.transactions > 0
    assert tables(tmp_path / "d")["transactions"]["raw"].null_count() == report.transactions


class ReorgingNode(RpcClient):
    """A node whose first ``bad_reads`` receipt answers miss the blocks' transactions."""

    def __init__(self, url: str, bad_reads: int) -> None:
        super().__init__(url)
        self.bad_reads = bad_reads

    def batch(self, calls: Any) -> list[Any]:
        out = super().batch(calls)
        if self.bad_reads and any(m == "eth_getBlockReceipts" for m, _ in calls):
            self.bad_reads -= 1
            return [
                [] if m == "eth_getBlockReceipts" else r
                for (m, _), r in zip(calls, out, strict=True)
            ]
        return out


def test_answers_that_do_not_fit_are_read_again(
    chain: tuple[Anvil, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, _ = chain
    monkeypatch.setattr(ingest_module.time, "sleep", lambda s: None)
    with ReorgingNode(node.url, bad_reads=2) as flaky:
        assert ingest_blocks(flaky, tmp_path / "a", 0, 9).blocks == 10
    with (
        ReorgingNode(node.url, bad_reads=3) as broken,
        pytest.raises(DatasetError, match=r"receipts for .* \(3 reads\)"),
    ):
        ingest_blocks(broken, tmp_path / "b", 0, 9)
    assert Dataset.open(tmp_path / "b").block_range is None


def test_resume_after_a_crash_mid_chunk(
    chain: tuple[Anvil, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, _ = chain
    head = node.block_number()
    real, written = Dataset._write_part, []

    def crash_in_second_chunk(self: Dataset, *args: Any) -> None:
        written.append(args)
        if len(written) == 6:  # blocks and transactions of chunk 2 on disk, manifest not yet
            raise KeyboardInterrupt
        real(self, *args)

    monkeypatch.setattr(Dataset, "_write_part", crash_in_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        ingest_blocks(node.rpc, tmp_path / "d", 0, head, chunk_blocks=10)
    monkeypatch.undo()
    assert Dataset.open(tmp_path / "d").block_range == (0, 9)
    report = ingest_blocks(node.rpc, tmp_path / "d", 0, head, chunk_blocks=10)
    assert (report.already_held, report.blocks) == (10, head + 1 - 10)
    ingest_blocks(node.rpc, tmp_path / "clean", 0, head, chunk_blocks=64)
    resumed, clean = tables(tmp_path / "d"), tables(tmp_path / "clean")
    for name in BLOCK_TABLES:
        assert resumed[name].equals(clean[name]), name
    assert resumed["blocks"]["number"].to_list() == list(range(head + 1))


def test_a_reorg_between_runs_is_refused(anvil: Anvil, tmp_path: Path) -> None:
    anvil.mine(3)
    fork_point = anvil.snapshot()
    anvil.mine(4)  # blocks 4-7, soon replaced
    ingest_blocks(anvil.rpc, tmp_path / "after", 0, 5)
    ingest_blocks(anvil.rpc, tmp_path / "around", 0, 1)
    ingest_blocks(anvil.rpc, tmp_path / "around", 5, 6)
    anvil.revert(fork_point)
    anvil.mine(4, timestamp=2_000_000_000)  # new blocks 4-7
    with pytest.raises(DatasetError, match=r"block 6 has parent hash .* reorganised .*new --out"):
        ingest_blocks(anvil.rpc, tmp_path / "after", 0, 7)
    with pytest.raises(DatasetError, match=r"block 5 has parent hash .* reorganised"):
        ingest_blocks(anvil.rpc, tmp_path / "around", 0, 6)
    assert Dataset.open(tmp_path / "after").block_range == (0, 5)  # nothing appended
    assert Dataset.open(tmp_path / "around").missing_blocks(0, 6) == [(2, 4)]


def test_a_dataset_of_another_chain_is_refused(anvil: Anvil, tmp_path: Path) -> None:
    with Anvil(AnvilConfig(chain_id=1)) as mainnet_like:
        ingest_blocks(mainnet_like.rpc, tmp_path / "d", 0, 0)
    with pytest.raises(DatasetError, match="holds chain 1, not 31337"):
        ingest_blocks(anvil.rpc, tmp_path / "d", 0, 0)


# ---- offline: a vcrpy cassette recorded from an Anvil chain -------------------------------


class PlainHttp:
    """A one-connection-per-request transport that vcrpy can record and replay (the real
    transport polls its socket, which vcrpy's fake connections lack)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout

    def post(self, body: bytes) -> bytes:
        conn = http.client.HTTPConnection(self.host or "", self.port, timeout=self.timeout)
        try:
            conn.request("POST", "/", body, {"Content-Type": "application/json"})
            return conn.getresponse().read()
        finally:
            conn.close()

    def close(self) -> None:
        pass

    reset = close


def digest(path: Path) -> dict[str, Any]:
    return {
        n: hashlib.sha256(df.write_ndjson().encode()).hexdigest() for n, df in tables(path).items()
    }


def crash_then_resume(
    url: str, out: Path, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest killed after its first chunk, then rerun to completion."""
    real = Dataset.append_blocks
    calls: list[int] = []

    def killed_after_first(self: Dataset, *args: Any) -> None:
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        real(self, *args)

    with monkeypatch.context() as m:
        m.setattr(Dataset, "append_blocks", killed_after_first)
        with pytest.raises(KeyboardInterrupt), RpcClient(url) as rpc:
            ingest_blocks(rpc, out, run["first"], run["last"], chunk_blocks=run["chunk_blocks"])
    with RpcClient(url) as rpc:
        ingest_blocks(rpc, out, run["first"], run["last"], chunk_blocks=run["chunk_blocks"])


def record_cassette(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Anvil() as node:
        market = deploy_market(node.rpc, SMALL_SPEC)
        first = node.block_number() + 1
        add_activity(node, market)
        node.mine(2)  # and two empty blocks
        run = {"first": first, "last": node.block_number(), "chunk_blocks": 2}
        CASSETTE.parent.mkdir(parents=True, exist_ok=True)
        CASSETTE.unlink(missing_ok=True)
        with vcr.use_cassette(
            str(CASSETTE), record_mode="all", match_on=["method", "path", "body"]
        ):
            crash_then_resume(node.url, tmp_path / "recorded", run, monkeypatch)
    EXPECTED.write_text(
        json.dumps({**run, "tables": digest(tmp_path / "recorded")}, indent=2) + "\n"
    )


def test_replay_from_a_cassette(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, no Anvil: a crashed then resumed ingest replayed from the recorded answers
    builds exactly the recorded dataset. WORKBENCH_RECORD=1 records it again (and its
    expectation with it); a missing cassette is a failure, never recorded on the fly."""
    monkeypatch.setattr(rpc_client, "HttpTransport", PlainHttp)
    if os.environ.get("WORKBENCH_RECORD") == "1":
        record_cassette(tmp_path, monkeypatch)
    for path in (CASSETTE, EXPECTED):
        if not path.exists():
            pytest.fail(
                f"{path.relative_to(project_root())} is missing: re-record it from a local "
                "Anvil with `WORKBENCH_RECORD=1 make test PYTEST_ARGS=tests/integration/sources/"
                "test_ingest.py::test_replay_from_a_cassette` and commit it"
            )
    expected = json.loads(EXPECTED.read_text())
    with vcr.use_cassette(
        str(CASSETTE), record_mode="none", match_on=["method", "path", "body"]
    ) as cassette:
        crash_then_resume("http://127.0.0.1:9/", tmp_path / "d", expected, monkeypatch)
        assert cassette.all_played
    assert digest(tmp_path / "d") == expected["tables"]
    ds = Dataset.open(tmp_path / "d")
    assert ds.block_range == (expected["first"], expected["last"])
    assert ds.source == "rpc:http://127.0.0.1:9/"
    assert ds.read("transactions")["raw"].null_count() == 0
