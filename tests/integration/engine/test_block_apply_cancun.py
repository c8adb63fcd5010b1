"""Cancun blocks re-executed as recorded, on a fork of the node they were ingested from: a blob
transaction (its signed bytes lack the sidecar Anvil asks for, so it goes unsigned from its
impersonated sender with its blob fields), the block's withdrawals credited to the wei, and the
EIP-4788 beacon root readable from the beacon-roots contract as the block's system call leaves
it. Anvil blocks carry neither withdrawals nor a beacon root, so those two are given to the
ingested block; the real contract bytecode of EIP-4788 is installed on the fork."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from eth_account import Account
from eth_utils import to_checksum_address

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.engine.block_apply import BEACON_ROOTS, apply_block
from workbench.sources.block_view import load_blocks
from workbench.sources.dataset import Dataset
from workbench.sources.ingest import ingest_blocks

DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Anvil's first
BEACON_ROOTS_CODE = (  # EIP-4788's runtime bytecode
    "0x3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f3580156049"
    "5762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281"
    "555f359062001fff015500"
)
VALIDATOR = to_checksum_address("0x" + "c4" * 20)  # eth-account wants checksums
GWEI = 10**9


def test_a_blob_transaction_withdrawals_and_the_beacon_root_replay(tmp_path: Path) -> None:
    sender = Account.from_key(DEV_KEY)
    common = {"chainId": 31337, "gas": 21000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
    with Anvil(AnvilConfig(mining="none")) as archive:
        blob = sender.sign_transaction(
            {
                **common,
                "type": 3,
                "nonce": 0,
                "to": VALIDATOR,
                "value": 1,
                "data": b"",
                "maxFeePerBlobGas": 10**9,
            },
            blobs=[b"\x01" * 131072],
        )
        plain = sender.sign_transaction(
            {**common, "type": 2, "nonce": 1, "to": VALIDATOR, "value": 2}
        )
        for signed in (blob, plain):
            archive.rpc.call("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
        archive.rpc.call("evm_mine", [])
        mined = archive.rpc.call("eth_getBlockByNumber", ["0x1", False])
        assert int(mined["blobGasUsed"], 16) == 131072 and len(mined["transactions"]) == 2
        ingest_blocks(archive.rpc, tmp_path / "d", 0, 1)

        [block] = load_blocks(Dataset.open(tmp_path / "d"), 1, 1)
        kinds = [(t["type"], t["blob_versioned_hashes"] is not None) for t in block.transactions]
        assert kinds == [(3, True), (2, False)]
        root = "0x" + "ab" * 32
        withdrawal = {
            "index": 7,
            "validator_index": 42,
            "address": VALIDATOR.lower(),
            "amount": 31_999_876,
        }
        block = dataclasses.replace(block, withdrawals=[withdrawal], parent_beacon_block_root=root)

        config = AnvilConfig(mining="none", fork_url=archive.url, fork_block_number=0)
        with Anvil(config) as fork:
            fork.rpc.call("anvil_setCode", [BEACON_ROOTS, BEACON_ROOTS_CODE])
            held = int(fork.rpc.call("eth_getBalance", [VALIDATOR, "latest"]), 16)
            fidelity = apply_block(fork, block)
            assert (fidelity.matched, fidelity.mismatches) == (2, []), fidelity.mismatches
            after = int(fork.rpc.call("eth_getBalance", [VALIDATOR, "latest"]), 16)
            assert after == held + 1 + 2 + 31_999_876 * GWEI  # both transfers, the withdrawal
            stamp = "0x" + block.timestamp.to_bytes(32, "big").hex()
            assert (
                fork.rpc.call("eth_call", [{"to": BEACON_ROOTS, "data": stamp}, "latest"]) == root
            )
