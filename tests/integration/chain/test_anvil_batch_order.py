"""What the runner's round-trip savings rely on: Anvil takes a JSON-RPC batch's calls in order
while each completes without waiting. Setting the next base fee, the coinbase, reverting and
taking snapshots, and adding transactions to the pool do; mining does not (a receipt asked
for in the same batch as ``evm_mine`` comes back empty), so no batch reads after a mine."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.rpc import RpcError

ROUNDS = 50


def _transfer(sender: LocalAccount, nonce: int, max_fee: int) -> str:
    signed = sender.sign_transaction(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": nonce,
            "to": "0x" + "22" * 20,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": 0,
        }
    )
    return signed.raw_transaction.to_0x_hex()


def test_the_base_fee_is_set_before_a_transaction_in_the_same_batch_is_checked() -> None:
    sender = Account.create()
    with Anvil(AnvilConfig(mining="none")) as node:
        node.set_balance(sender.address, 10**20)
        for i in range(ROUNDS):
            fee_set, sent = node.rpc.batch(
                [
                    ("anvil_setNextBlockBaseFeePerGas", [hex(10**12)]),
                    ("eth_sendRawTransaction", [_transfer(sender, i, 10**9)]),
                ]
            )
            assert not isinstance(fee_set, RpcError)
            assert isinstance(sent, RpcError), "checked against the old base fee"
            node.rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(10**8)])


def test_transactions_in_one_batch_enter_the_pool_in_order() -> None:
    senders = [Account.create() for _ in range(8)]
    with Anvil(AnvilConfig(mining="none", order="fifo")) as node:
        for s in senders:
            node.set_balance(s.address, 10**20)
        for i in range(ROUNDS // 10):
            order = senders if i % 2 else senders[::-1]
            hashes = node.rpc.batch(
                [("eth_sendRawTransaction", [_transfer(s, i, 10**11)]) for s in order]
            )
            node.mine()
            block = node.rpc.call("eth_getBlockByNumber", ["latest", False])
            assert block["transactions"] == hashes


def test_revert_then_snapshot_in_one_batch_snapshots_the_reverted_state() -> None:
    with Anvil(AnvilConfig(mining="none")) as node:
        base = node.snapshot()
        for i in range(ROUNDS):
            node.mine()
            reverted, _, snapshot = node.rpc.batch(
                [("evm_revert", [base]), ("anvil_dropAllTransactions", []), ("evm_snapshot", [])]
            )
            assert reverted is True
            assert node.block_number() == 0
            node.mine(2)
            assert node.revert(str(snapshot)) is None and node.block_number() == 0, i
            base = node.snapshot()


def test_mining_does_not_complete_before_the_next_call_in_its_batch() -> None:
    sender = Account.create()
    with Anvil(AnvilConfig(mining="none")) as node:
        node.set_balance(sender.address, 10**20)
        tx_hash = node.rpc.call("eth_sendRawTransaction", [_transfer(sender, 0, 10**11)])
        _, receipt = node.rpc.batch([("evm_mine", []), ("eth_getTransactionReceipt", [tx_hash])])
        assert receipt is None  # if this ever fails, a mine and its reads could share a batch
        assert node.rpc.call("eth_getTransactionReceipt", [tx_hash]) is not None
