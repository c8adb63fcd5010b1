"""An Executor placed on a running Anvil without mining a block: for replays and the devnet,
whose blocks must keep their numbers, hashes and base fees.

Its runtime code (owner and WETH are immutables in it) is produced by deploying it as the
owner inside a snapshot and reverting; it is then placed with ``anvil_setCode``. WETH is
credited by writing WETH9's balance slot and backing it with ETH, as a deposit would.
"""

from __future__ import annotations

from eth_utils import keccak

from workbench.chain.abi import encode_deploy
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.contracts import artifact
from workbench.errors import DeploymentError

WETH9_BALANCE_SLOT = 3
DEPLOY_GAS = 1_800_000  # Executor's deployment needs ~1.4M; fits small devnet blocks
_DEPLOY_MONEY = 10**21  # the owner's ETH inside the snapshot, for the deployment's gas


def weth_balance_slot(holder: str) -> int:
    """WETH9's storage slot of ``holder``'s balance (``balanceOf`` is its slot 3 mapping)."""
    return int.from_bytes(
        keccak(bytes.fromhex(holder[2:].rjust(64, "0")) + WETH9_BALANCE_SLOT.to_bytes(32, "big")),
        "big",
    )


def credit_weth(node: AnvilControl, weth: str, holder: str, amount: int) -> None:
    """Adds ``amount`` WETH to ``holder`` and the ETH behind it to the WETH contract."""
    rpc = node.rpc
    slot = weth_balance_slot(holder)
    held = int(rpc.call("eth_getStorageAt", [weth, hex(slot), "latest"]), 16)
    node.set_storage(weth, slot, held + amount)
    backing = int(rpc.call("eth_getBalance", [weth, "latest"]), 16)
    node.set_balance(weth, backing + amount)


def executor_runtime(node: AnvilControl, owner: str, weth: str) -> str:
    """The runtime code of an Executor owned by ``owner``; the chain is left as it was."""
    rpc = node.rpc
    snap = node.snapshot()
    try:
        node.set_balance(owner, _DEPLOY_MONEY)
        node.impersonate(owner)
        code = "0x" + encode_deploy(artifact("Executor"), [weth]).hex()
        tx_hash = rpc.call(
            "eth_sendTransaction", [{"from": owner, "data": code, "gas": hex(DEPLOY_GAS)}]
        )
        node.mine()  # replay chains mine only when asked
        receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is None or int(receipt["status"], 16) != 1:
            raise DeploymentError(f"deploying an Executor for {owner} failed: {receipt}")
        return str(rpc.call("eth_getCode", [receipt["contractAddress"], "latest"]))
    finally:
        node.revert(snap)


def install_executor(node: AnvilControl, owner: str, weth: str, capital: int, at: str) -> None:
    """An Executor owned by ``owner`` at address ``at`` holding ``capital`` WETH (wei); no
    block is mined and ``owner``'s ETH is left to the caller."""
    node.set_code(at, executor_runtime(node, owner, weth))
    credit_weth(node, weth, at, capital)
