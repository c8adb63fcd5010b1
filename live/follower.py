"""The runner's own EVM: an Anvil fork of the node that follows its chain block by block.

It forks the node once, at the head the runner starts from, then mines each new block of the
node itself from the block's signed transactions (coinbase, base fee, timestamp as recorded)
and checks every receipt against the node's (replay fidelity) — so its caches stay warm and
its state is the node's. A block that does not replay identically, or a reorg, re-forks it
at that block.

Between two blocks it also holds the *pending chain*: each public pending transaction, in
arrival order, mined in a block of its own on top of the head, so the strategy sees the
pools right after it and a backrun is simulated right after its target. ``advance`` drops
the pending chain before mining the next real block. Every bundle is simulated here before it
is sent (``AnvilSimulator`` on ``node``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.anvil_control import AnvilControl
from workbench.engine.block_apply import apply_block
from workbench.engine.fidelity import Fidelity
from workbench.errors import AnvilError
from workbench.rpc import RpcError, RpcTransportError, unwrap_batch
from workbench.sources.block_view import BlockData
from workbench.strategy.context import BlockEnv

log = logging.getLogger(__name__)


FOLLOWER_FAULTS = (RpcError, RpcTransportError, AnvilError)
"""What a failing follower (or the node behind its fork) raises."""


@dataclass(frozen=True, slots=True)
class PendingReceipt:
    """A pending transaction mined on the pending chain."""

    hash: str
    status: int
    gas_used: int
    logs: list[dict[str, Any]]  # as the node gives them (camelCase, hex)


class Follower:
    """An Anvil fork of ``rpc_url`` kept at the node's head (see the module docstring)."""

    def __init__(
        self,
        rpc_url: str,
        head: int,
        *,
        chain_id: int | None = None,
        prepare: Callable[[AnvilControl], None] | None = None,
    ) -> None:
        self.rpc_url = rpc_url
        self.prepare = prepare  # run on every fresh fork (e.g. install a shadow searcher)
        self.head = head
        # Started unforked, then forked over its RPC (``anvil_reset``): the node's URL, which
        # may carry a key, is never on Anvil's command line (readable by any local user).
        # (the reset's first reads of a remote node may take a while)
        # A local node (a devnet, another Anvil) reuses chain ids and block numbers with other
        # contents: Foundry's disk cache of forked state goes to a home of this follower's own,
        # removed on stop (``--no-storage-caching`` is refused without ``--fork-url``).
        local = urlsplit(rpc_url).hostname in {"127.0.0.1", "localhost", "::1"}
        self._home = Path(tempfile.mkdtemp(prefix="follower-home-")) if local else None
        self._config = AnvilConfig(
            chain_id=chain_id, mining="none", order="fifo", rpc_timeout=120.0, home=self._home
        )
        self.node = Anvil(self._config)
        self._base: str | None = None  # snapshot of the head, before any pending tx
        self.pending_gas = 0
        self.reforks = 0
        self.broken: str | None = None  # why the follower must re-fork before it is used

    def start(self) -> Follower:
        self.node.start()
        self.node.reset(self.rpc_url, self.head)
        if self.prepare is not None:
            self.prepare(self.node)
        self._base = self.node.snapshot()
        return self

    def stop(self) -> None:
        self.node.stop()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> Follower:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _to_head(self) -> None:
        """Drops the pending chain: back to the head's state."""
        assert self._base is not None, "start() the follower first"
        # One round trip: Anvil takes a batch's calls in order while each completes without
        # waiting (these do).
        reverted, _, snapshot = unwrap_batch(
            self.node.rpc.batch(
                [
                    ("evm_revert", [self._base]),
                    ("anvil_dropAllTransactions", []),
                    ("evm_snapshot", []),
                ]
            )
        )
        if reverted is not True:
            raise AnvilError(f"evm_revert: unknown or already used snapshot id {self._base}")
        self._base = str(snapshot)
        self.pending_gas = 0

    def advance(self, block: BlockData) -> Fidelity:
        """Mines the node's next block ``block`` here; re-forks at it if it does not replay
        identically (the returned fidelity says what differed), or if the follower is broken
        or behind. ``RpcTransportError`` / ``AnvilError`` mean the follower (or the node
        behind its fork) failed: it is marked broken and the next call re-forks."""
        if self.broken is not None or block.number != self.head + 1:
            why = self.broken or f"the follower was at block {self.head}"
            self.recover(block.number)
            return Fidelity(mismatches=[f"block {block.number} not replayed: re-forked ({why})"])
        try:
            self._to_head()
            try:
                fidelity = apply_block(self.node, block)
            except RpcError as err:
                fidelity = Fidelity(mismatches=[f"block {block.number} did not replay: {err}"])
            if fidelity.mismatches:
                log.warning(
                    "block %d did not replay identically (%s); re-forking the node there",
                    block.number,
                    fidelity.mismatches[0],
                )
                self.recover(block.number)
            else:
                self.head = block.number
                self._base = self.node.snapshot()
        except (RpcTransportError, AnvilError) as exc:
            self.broken = str(exc)
            raise
        return fidelity

    def recover(self, number: int) -> None:
        """Forks the node afresh at block ``number``: after a mismatch or a reorg by a reset,
        after a failure in a new process."""
        if self.broken is not None:  # a fresh process: the old one may hang on the dead fork
            self.node.stop()
            self.node = Anvil(self._config).start()
        self.node.reset(self.rpc_url, number)
        if self.prepare is not None:
            self.prepare(self.node)
        self.head = number
        self._base = self.node.snapshot()
        self.pending_gas = 0
        self.broken = None
        self.reforks += 1

    def apply_pending(self, raw: str, env: BlockEnv) -> PendingReceipt | None:
        """Mines ``raw`` on the pending chain in ``env``'s block; None when the node would not
        take it (already mined, nonce gap, fee too low)."""
        rpc = self.node.rpc
        try:
            # One round trip. The base fee goes first: the transaction is checked against it,
            # and Anvil takes a batch's calls in order when each completes without waiting
            # (setting a fee does).
            fee_set, tx_hash = rpc.batch(
                [
                    ("anvil_setNextBlockBaseFeePerGas", [hex(env.base_fee)]),
                    ("eth_sendRawTransaction", [raw]),
                ]
            )
            if isinstance(fee_set, RpcError):
                raise fee_set
            if isinstance(tx_hash, RpcError):
                return None
            self.node.mine(timestamp=env.timestamp)
            receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
        except (RpcTransportError, AnvilError, RpcError) as exc:
            self.broken = str(exc)
            raise
        if receipt is None:  # not mined (e.g. its nonce waits for another transaction)
            rpc.call("anvil_dropAllTransactions")
            return None
        gas = int(receipt["gasUsed"], 16)
        self.pending_gas += gas
        return PendingReceipt(tx_hash, int(receipt["status"], 16), gas, receipt["logs"])
