"""Sending transactions from an unlocked (dev or impersonated) account on Anvil, and reading
their outcome: the receipt, or a clear error with the decoded revert reason."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_abi import decode

from workbench.errors import DeploymentError
from workbench.rpc import RpcClient, RpcError

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
GAS_MARGIN_PERCENT = 125
GAS_MARGIN_FLAT = 20_000


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: str
    status: int
    gas_used: int
    effective_gas_price: int
    block_number: int
    contract_address: str | None
    logs: list[dict[str, Any]]


def revert_data(err: RpcError) -> bytes:
    """The raw revert data carried by an ``eth_call``/``eth_estimateGas`` error, if any."""
    data = err.data
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""


def describe_revert(data: bytes) -> str:
    if data[:4] == _ERROR_STRING:
        return f"Error({decode(['string'], data[4:])[0]!r})"
    return "0x" + data.hex() if data else "no revert data"


class Sender:
    """Sends transactions with ``eth_sendTransaction`` from ``account`` (Anvil signs)."""

    def __init__(self, rpc: RpcClient, account: str) -> None:
        self.rpc = rpc
        self.account = account

    def call(self, to: str, data: bytes, *, value: int = 0, block: str = "latest") -> bytes:
        tx = {"from": self.account, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
        return bytes.fromhex(str(self.rpc.call("eth_call", [tx, block]))[2:])

    def send(
        self,
        to: str | None,
        data: bytes,
        *,
        value: int = 0,
        what: str = "transaction",
        **fields: Any,
    ) -> Receipt:
        """Sends and waits for the receipt (automine); raises ``DeploymentError`` on a revert."""
        tx: dict[str, Any] = {"from": self.account, "data": "0x" + data.hex(), "value": hex(value)}
        if to is not None:
            tx["to"] = to
        tx.update({k: hex(v) if isinstance(v, int) else v for k, v in fields.items()})
        try:
            if "gas" not in tx:
                tx["gas"] = hex(self._padded_estimate(tx))
            tx_hash = self.rpc.call("eth_sendTransaction", [tx])
        except RpcError as err:
            raise DeploymentError(
                f"{what} rejected: {err.message} ({describe_revert(revert_data(err))})"
            ) from err
        receipt = self.receipt(tx_hash)
        if receipt.status != 1:
            raise DeploymentError(f"{what} reverted in tx {tx_hash}: {self._why(tx_hash, receipt)}")
        return receipt

    def _padded_estimate(self, tx: dict[str, Any]) -> int:
        """Anvil's estimate plus a margin: the estimate runs on the pending block, and gas can
        differ once mined (e.g. a V3 pool writes an oracle observation in a new second)."""
        estimate = int(self.rpc.call("eth_estimateGas", [tx]), 16)
        return estimate * GAS_MARGIN_PERCENT // 100 + GAS_MARGIN_FLAT

    def _why(self, tx_hash: str, receipt: Receipt) -> str:
        """Replays a reverted transaction on its parent state to recover the revert data."""
        tx = self.rpc.call("eth_getTransactionByHash", [tx_hash])
        gas = int(tx["gas"], 16)
        replay = {
            k: tx[k] for k in ("from", "to", "input", "value", "gas") if tx.get(k) is not None
        }
        try:
            self.rpc.call("eth_call", [replay, hex(receipt.block_number - 1)])
            reason = (
                "the replay on the parent state succeeds (it depends on its position in the block)"
            )
        except RpcError as err:
            reason = describe_revert(revert_data(err))
        if receipt.gas_used * 64 >= gas * 63:
            reason += " (it used nearly all its gas: out of gas?)"
        return f"{reason}; gas used {receipt.gas_used} of {gas}"

    def receipt(self, tx_hash: str, timeout: float = 10.0) -> Receipt:
        """Waits for the receipt (Anvil automines just after accepting the transaction)."""
        deadline = time.monotonic() + timeout
        while (r := self.rpc.call("eth_getTransactionReceipt", [tx_hash])) is None:
            if time.monotonic() > deadline:
                raise DeploymentError(
                    f"no receipt for {tx_hash} after {timeout:g}s: is Anvil mining?"
                )
            time.sleep(0.002)
        return Receipt(
            tx_hash=tx_hash,
            status=int(r["status"], 16),
            gas_used=int(r["gasUsed"], 16),
            effective_gas_price=int(r["effectiveGasPrice"], 16),
            block_number=int(r["blockNumber"], 16),
            contract_address=r.get("contractAddress"),
            logs=r["logs"],
        )
