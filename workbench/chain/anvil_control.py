"""Anvil's control methods (snapshots, mining, state overrides, impersonation, fork reset).

Works on any Anvil reachable over JSON-RPC: one started by ``Anvil`` or one already running
(``AnvilControl(RpcClient(url))``).
"""

from __future__ import annotations

from typing import Any

from workbench.rpc import RpcClient


def _hex(value: int) -> str:
    return hex(value)


class AnvilControl:
    """Anvil-specific RPC methods over a JSON-RPC client."""

    def __init__(self, rpc: RpcClient) -> None:
        self._rpc: RpcClient | None = rpc

    @property
    def rpc(self) -> RpcClient:
        assert self._rpc is not None
        return self._rpc

    # ---- snapshots ---------------------------------------------------------------------

    def snapshot(self) -> str:
        """Saves the current state; returns an id for ``revert``."""
        return str(self.rpc.call("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        """Restores a snapshot (which is consumed: take a new one to revert again)."""
        if not self.rpc.call("evm_revert", [snapshot_id]):
            raise ValueError(f"evm_revert: unknown or already used snapshot id {snapshot_id}")

    # ---- blocks and time ---------------------------------------------------------------

    def block_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def mine(
        self, blocks: int = 1, *, timestamp: int | None = None, interval: int | None = None
    ) -> None:
        """Mines ``blocks`` blocks; the first at ``timestamp`` if given, ``interval`` s apart."""
        if blocks == 1 and interval is None:  # one round trip: evm_mine takes the timestamp
            self.rpc.call("evm_mine", [] if timestamp is None else [_hex(timestamp)])
            return
        if timestamp is not None:
            self.rpc.call("evm_setNextBlockTimestamp", [_hex(timestamp)])
        params = [_hex(blocks)] + ([_hex(interval)] if interval is not None else [])
        self.rpc.call("anvil_mine", params)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        self.rpc.call("evm_setNextBlockTimestamp", [_hex(timestamp)])

    def set_automine(self, enabled: bool) -> None:
        self.rpc.call("evm_setAutomine", [enabled])

    def set_interval_mining(self, seconds: int) -> None:
        """Mines a block every ``seconds`` (0 turns interval mining off)."""
        self.rpc.call("evm_setIntervalMining", [seconds])

    def set_next_base_fee(self, wei: int) -> None:
        self.rpc.call("anvil_setNextBlockBaseFeePerGas", [_hex(wei)])

    # ---- state overrides ---------------------------------------------------------------

    def set_balance(self, account: str, wei: int) -> None:
        self.rpc.call("anvil_setBalance", [account, _hex(wei)])

    def set_code(self, account: str, code: str | bytes) -> None:
        if isinstance(code, bytes):
            code = "0x" + code.hex()
        self.rpc.call("anvil_setCode", [account, code])

    def set_storage(self, account: str, slot: int, value: int) -> None:
        self.rpc.call(
            "anvil_setStorageAt", [account, _hex(slot), "0x" + value.to_bytes(32, "big").hex()]
        )

    def set_nonce(self, account: str, nonce: int) -> None:
        self.rpc.call("anvil_setNonce", [account, _hex(nonce)])

    def impersonate(self, account: str) -> None:
        """Lets ``eth_sendTransaction`` send from ``account`` without its key."""
        self.rpc.call("anvil_impersonateAccount", [account])

    def stop_impersonating(self, account: str) -> None:
        self.rpc.call("anvil_stopImpersonatingAccount", [account])

    # ---- forks and state files ---------------------------------------------------------

    def reset(self, fork_url: str | None = None, block_number: int | None = None) -> None:
        """Resets to a fresh chain, or to ``fork_url`` at ``block_number`` (latest if None)."""
        forking: dict[str, Any] = {}
        if fork_url:
            forking["jsonRpcUrl"] = fork_url
        if block_number is not None:
            forking["blockNumber"] = block_number
        self.rpc.call("anvil_reset", [{"forking": forking}] if forking else [])

    def dump_state(self) -> str:
        """The whole chain state as Anvil's hex blob (for ``load_state``)."""
        return str(self.rpc.call("anvil_dumpState"))

    def load_state(self, blob: str) -> None:
        self.rpc.call("anvil_loadState", [blob])
