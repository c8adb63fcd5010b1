"""``workbench executor deploy``: our Executor contract deployed for real, owned by the funds key
of a keystore, so that ``workbench live --mode live --executor ADDRESS`` can trade through it.

The transaction is signed here (eth-account) and sent raw; its fees follow the node's base fee
(at most twice it, plus the node's suggested tip) and its cost is capped by ``--max-cost-eth``.
Nothing is sent when the chain id is not the one asked for, or when the key cannot pay."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from live.nonces import chain_nonce
from live.signer import Signer
from workbench.chain.abi import encode_deploy
from workbench.chain.contracts import artifact
from workbench.chain.executor_install import DEPLOY_GAS
from workbench.errors import ConfigError, DeploymentError
from workbench.rpc import RpcClient
from workbench.types import address

RECEIPT_TIMEOUT = 300.0  # seconds: a few blocks on any chain


def deploy_executor(
    rpc: RpcClient,
    signer: Signer,
    weth: str,
    *,
    chain_id: int,
    max_cost_wei: int,
    timeout: float = RECEIPT_TIMEOUT,
) -> dict[str, Any]:
    """Deploys an Executor for ``weth`` owned by ``signer``; returns its address and the
    transaction's hash, gas used and cost (wei)."""
    got = int(rpc.call("eth_chainId"), 16)
    if got != chain_id:
        raise ConfigError(
            f"the node serves chain {got}, not {chain_id}: check --rpc and --chain-id"
        )
    weth = address(weth)
    if rpc.call("eth_getCode", [weth, "latest"]) in ("0x", ""):
        raise ConfigError(
            f"{weth} has no code on chain {chain_id}: give the chain's WETH with --weth"
        )
    base = int(rpc.call("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
    tip = int(rpc.call("eth_maxPriorityFeePerGas"), 16)
    max_fee = 2 * base + tip
    worst = DEPLOY_GAS * max_fee
    if worst > max_cost_wei:
        raise ConfigError(
            f"deploying may cost up to {Decimal(worst) / 10**18:f} ETH at today's fees "
            f"({DEPLOY_GAS} gas at {max_fee} wei), above --max-cost-eth; raise it or wait"
        )
    owner = signer.address
    balance = int(rpc.call("eth_getBalance", [owner, "latest"]), 16)
    if balance < worst:
        raise ConfigError(
            f"{owner} holds {Decimal(balance) / 10**18:f} ETH, less than the "
            f"{Decimal(worst) / 10**18:f} ETH the deployment may cost: fund it first"
        )
    tx = {
        "chainId": chain_id,
        "nonce": chain_nonce(rpc, owner, "pending"),
        "gas": DEPLOY_GAS,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": tip,
        "value": 0,
        "data": "0x" + encode_deploy(artifact("Executor"), [weth]).hex(),
        "type": 2,
    }
    signed = signer.sign_transaction(tx)
    tx_hash = rpc.call("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
    deadline = time.monotonic() + timeout
    while (receipt := rpc.call("eth_getTransactionReceipt", [tx_hash])) is None:
        if time.monotonic() > deadline:
            raise DeploymentError(
                f"the deployment {tx_hash} is not mined after {timeout:.0f}s: look it up before "
                "sending another (its nonce is taken)"
            )
        time.sleep(1.0)
    if int(receipt["status"], 16) != 1:
        raise DeploymentError(f"the deployment {tx_hash} reverted (gas used {receipt['gasUsed']})")
    gas = int(receipt["gasUsed"], 16)
    return {
        "executor": address(receipt["contractAddress"]),
        "owner": owner,
        "transaction": tx_hash,
        "gas_used": gas,
        "cost_wei": gas * int(receipt["effectiveGasPrice"], 16),
    }
