"""Our searcher on a replay chain: a fresh key, and an Executor owned by it, funded with WETH,
installed without mining a block (the replayed blocks must keep their numbers and base fees).

The Executor's runtime code (owner and WETH are immutables in it) is produced by deploying it
inside a snapshot and reverting; it is then placed with ``anvil_setCode``. WETH is credited
by writing WETH9's balance slot and backing it with ETH, as a deposit would.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from workbench.chain.abi import encode_deploy
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.contracts import artifact
from workbench.errors import DeploymentError
from workbench.types import address

WETH9_BALANCE_SLOT = 3
EXECUTOR_ADDRESS = address("0x00000000000000000000000000000000e8ec0700")  # where ours is installed
GAS_MONEY = 10**21  # ETH for the searcher's gas in simulations
DEPLOY_GAS = 1_800_000  # Executor's deployment needs ~1.4M; fits small devnet blocks


@dataclass(frozen=True)
class Searcher:
    account: LocalAccount
    executor: str


def _weth_slot(holder: str) -> int:
    return int.from_bytes(
        keccak(bytes.fromhex(holder[2:].rjust(64, "0")) + WETH9_BALANCE_SLOT.to_bytes(32, "big")),
        "big",
    )


def install_searcher(node: AnvilControl, weth: str, capital: int) -> Searcher:
    """A new searcher with ``capital`` WETH in its Executor; no block is mined."""
    account = Account.create()  # throwaway key: never printed, never stored
    rpc = node.rpc
    snap = node.snapshot()
    try:
        node.set_balance(account.address, GAS_MONEY)
        node.impersonate(account.address)
        code = "0x" + encode_deploy(artifact("Executor"), [weth]).hex()
        tx_hash = rpc.call(
            "eth_sendTransaction", [{"from": account.address, "data": code, "gas": hex(DEPLOY_GAS)}]
        )
        node.mine()  # replay chains mine only when asked
        receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is None or int(receipt["status"], 16) != 1:
            raise DeploymentError(f"deploying our Executor failed: {receipt}")
        runtime = rpc.call("eth_getCode", [receipt["contractAddress"], "latest"])
    finally:
        node.revert(snap)
    node.set_code(EXECUTOR_ADDRESS, runtime)
    node.set_balance(account.address, GAS_MONEY)
    held = int(
        rpc.call("eth_getStorageAt", [weth, hex(_weth_slot(EXECUTOR_ADDRESS)), "latest"]), 16
    )
    node.set_storage(weth, _weth_slot(EXECUTOR_ADDRESS), held + capital)
    weth_eth = int(rpc.call("eth_getBalance", [weth, "latest"]), 16)
    node.set_balance(weth, weth_eth + capital)
    return Searcher(account, EXECUTOR_ADDRESS)
