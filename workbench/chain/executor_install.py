"""An Executor placed on a running Anvil without mining a block: for replays and the devnet,
whose blocks must keep their numbers, hashes and base fees.

Its runtime code (owner and WETH are immutables in it) is produced by deploying it as the
owner inside a snapshot and reverting; it is then placed with ``anvil_setCode``. WETH is
credited by writing the token's balance slot (the network's, or found by probing the token's
storage) and backing it with ETH, as a deposit would.
"""

from __future__ import annotations

from eth_utils import keccak

from workbench.chain.abi import decode_result, encode_call, encode_deploy
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.contracts import artifact
from workbench.errors import DeploymentError
from workbench.networks import find_network
from workbench.rpc import RpcError

DEPLOY_GAS = 1_800_000  # Executor's deployment needs ~1.4M; fits small devnet blocks
_DEPLOY_MONEY = 10**21  # the owner's ETH inside the snapshot, for the deployment's gas
_PROBED_SLOTS = 64  # balance mappings sit in the first slots of every token seen so far
_MARK = 0x5EED_0F_BA1A_9CE  # a balance no real holder has, written while probing


def mapping_slot(holder: str, slot: int, *, vyper: bool = False) -> int:
    """The storage slot of ``holder``'s entry in the mapping at ``slot`` (Solidity hashes key
    then slot; Vyper slot then key)."""
    key, at = bytes.fromhex(holder[2:].rjust(64, "0")), slot.to_bytes(32, "big")
    return int.from_bytes(keccak(at + key if vyper else key + at), "big")


def _balance(node: AnvilControl, token: str, holder: str) -> int | None:
    data = "0x" + encode_call("TestERC20", "balanceOf", [holder]).hex()
    try:
        reply = node.rpc.call("eth_call", [{"to": token, "data": data}, "latest"])
    except RpcError:
        return None
    return int(decode_result("TestERC20", "balanceOf", reply)[0])


def find_balance_slot(
    node: AnvilControl, token: str, holder: str, *, first: int | None = None
) -> int:
    """The storage slot of ``holder``'s ``token`` balance, found by writing a mark into each
    candidate mapping entry (slot ``first`` first, then 0, 1, ...; Solidity and Vyper layouts)
    inside a snapshot and reading ``balanceOf`` back."""
    order = ([first] if first is not None else []) + [s for s in range(_PROBED_SLOTS) if s != first]
    for slot in order:
        for vyper in (False, True):
            entry = mapping_slot(holder, slot, vyper=vyper)
            snap = node.snapshot()
            try:
                node.set_storage(token, entry, _MARK)
                if _balance(node, token, holder) == _MARK:
                    return entry
            finally:
                node.revert(snap)
    raise DeploymentError(
        f"no balanceOf mapping found in the first {_PROBED_SLOTS} storage slots of {token}: "
        "it is not a plain ERC-20 (a proxy or rebasing token cannot be credited this way)"
    )


def balance_slot(node: AnvilControl, token: str, holder: str) -> int:
    """The storage slot of ``holder``'s balance of ``token``: probed, starting with the
    network's known slot when ``token`` is (or may be) its native wrapper."""
    network = find_network(int(node.rpc.call("eth_chainId"), 16))
    first = None
    if network is not None and (
        network.wrapper is None or network.wrapper.lower() == token.lower()
    ):
        first = network.wrapper_balance_slot
    return find_balance_slot(node, token, holder, first=first)


def credit_weth(node: AnvilControl, weth: str, holder: str, amount: int) -> None:
    """Adds ``amount`` WETH to ``holder`` and the ETH behind it to the WETH contract."""
    rpc = node.rpc
    slot = balance_slot(node, weth, holder)
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
