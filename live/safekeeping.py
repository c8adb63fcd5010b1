"""What keeps a live run's money safe across stops and restarts: its risk state written after
every block and bundle (``live.risk_state``), taken over and reconciled with the chain at the
next start, and every bundle in flight cancelled on every relay when the run halts (the kill
switch, SIGTERM, SIGINT, the end of the run)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor as ThreadPool
from pathlib import Path
from typing import Any

from live.executors import Tally
from live.reconcile import realised
from live.risk import RiskManager, UnknownIntentError
from live.risk_state import RiskState, encode, load, save
from live.submit import BundleSender, Sent
from workbench.rpc import RpcClient
from workbench.sources.block_view import BlockData

log = logging.getLogger(__name__)


class Safekeeping:
    """The risk state of one live account at ``path`` (see the module docstring); without a
    path nothing is written nor taken over, and a halt still cancels."""

    def __init__(
        self,
        path: Path | None,
        *,
        risk: RiskManager,
        sender: BundleSender,
        tally: Tally,
        weth: str,
        executor: str,
        writer: Callable[[], ThreadPool],
    ) -> None:
        self.path = path
        self.risk, self.sender, self.tally = risk, sender, tally
        self.weth, self.executor = weth, executor
        self._writer = writer  # the store writer's thread: writes in order, off the loop
        self.restored: dict[int, Sent] = {}  # bundles of an earlier run, by target block

    def persist(self) -> None:
        """Writes the state as it is now (taken here, written on the writer's thread)."""
        if self.path is None:
            return
        data = encode(RiskState(self.risk.export_state(), dict(self.sender.in_flight)))
        self._writer().submit(save, self.path, data)

    def take_over(self, rpc: RpcClient, head: int) -> None:
        """Adopts what an earlier run left: its losses, breaker and reservations; each bundle
        of it for a block after ``head`` back in flight (a new bundle for that block replaces
        it), each for a block already mined settled from our transaction's receipt."""
        saved = None if self.path is None else load(self.path)
        if saved is None:
            return
        self.risk.import_state(saved.risk)
        passed = 0
        for target, sent in sorted(saved.in_flight.items()):
            if target > head:
                self.sender.in_flight[target] = sent
                self.restored[target] = sent
                continue
            receipt = rpc.call("eth_getTransactionReceipt", [sent.tx.hash])
            landed = receipt is not None and int(receipt["blockNumber"], 16) == target
            # an earlier run's result: it counts towards today's losses, not this run's PnL
            self._settle(sent, _receipt_row(receipt) if landed else None, this_run=False)
            passed += 1
        log.warning(
            "took over the risk state of an earlier run (%s): %d bundles in flight again, %d "
            "settled from the chain",
            self.path,
            len(self.restored),
            passed,
        )
        self.persist()

    def settle_restored(self, block: BlockData) -> None:
        """Settles the earlier run's bundle for ``block``, if there was one."""
        sent = self.restored.pop(block.number, None)
        if sent is None:
            return
        ours = sent.tx.hash.lower()
        receipt = next((r for h, r in block.receipts.items() if h.lower() == ours), None)
        row = None if receipt is None else (receipt, block.logs_of(receipt["transaction_hash"]))
        self._settle(sent, row, this_run=True)

    def _settle(
        self,
        sent: Sent,
        landed: tuple[Mapping[str, Any], list[Any]] | None,
        *,
        this_run: bool,
    ) -> None:
        gain = gas = 0
        if landed is not None:
            got = realised(landed[0], landed[1], self.weth, self.executor)
            gain, gas = got.weth_delta, got.gas_cost
            if this_run:
                self.tally.landed += 1
                self.tally.realised_net += got.net
        try:
            self.risk.settle(
                sent.key, gain, gas, landed is not None, target_block=sent.target_block
            )
        except UnknownIntentError:  # its reservation was settled before the restart
            if landed is not None:
                self.risk.count_unplanned(gain - gas, time.time_ns() // 1_000_000)

    def cancel_in_flight(self, why: str) -> int:
        """Withdraws every bundle in flight on every relay (``eth_cancelBundle`` by its UUID);
        they stay in flight (a builder may hold one already) until their block is settled.
        Returns how many were cancelled."""
        count = 0
        for target, sent in sorted(self.sender.in_flight.items()):
            if sent.bundle.replacement_uuid is None:
                continue
            answers = self.sender.fanout.cancel(sent.bundle.replacement_uuid, target)
            failed = [a.relay for a in answers if not a.ok]
            if failed:
                log.error("cancelling the bundle for block %d failed at %s", target, failed)
            count += 1
        self.tally.cancelled += count
        log.warning("%s: cancelled %d bundles in flight on every relay", why, count)
        self.persist()
        return count


def _receipt_row(receipt: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A node's receipt as ``live.reconcile.realised`` reads a dataset's, with its logs."""
    row = {
        "transaction_hash": receipt["transactionHash"],
        "status": int(receipt["status"], 16),
        "gas_used": int(receipt["gasUsed"], 16),
        "effective_gas_price": int(receipt["effectiveGasPrice"], 16),
    }
    logs = [
        {"address": e["address"], "topics": e["topics"], "data": e["data"]} for e in receipt["logs"]
    ]
    return row, logs
