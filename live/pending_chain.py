"""The open slot's pending chain: each public pending transaction mined on top of the head on
the follower, in arrival order, and the pools right after it (from its receipt's logs), so
that the strategy sees them and a backrun is simulated after its target."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from live.executors import now_ms
from live.follower import FOLLOWER_FAULTS, Follower
from live.watch import PendingSeen
from workbench.engine.executor import Placement
from workbench.engine.replay import pending_from_row
from workbench.market.events import decode_log
from workbench.market.market_state import next_state
from workbench.market.pool import Pool
from workbench.rpc import RpcClient, RpcError, RpcTransportError
from workbench.sources.block_view import BlockData
from workbench.sources.raw_tx import verified_raw
from workbench.sources.rpc_convert import mempool_row
from workbench.strategy.context import BlockEnv, PendingTx

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Applied:
    """A pending transaction on the pending chain, with what it moved."""

    tx: PendingTx
    placement: Placement
    moved: frozenset[str]
    pools: Mapping[str, Pool]  # right after it


@dataclass
class PendingChain:
    own: set[str]  # our accounts (lowercase): our own transactions are not the market's
    running: dict[str, Pool] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # hash -> first seen (epoch ms)
    position: int = 0

    def reset(self, pools: Mapping[str, Pool]) -> None:
        """A new slot on the head whose pools are ``pools``."""
        self.running, self.seen, self.position = dict(pools), {}, 0

    def public_in(self, block: BlockData) -> dict[str, int]:
        """``block``'s transactions that we saw pending, with when (its ``first_seen_ms``)."""
        return {
            t["hash"]: self.seen[t["hash"]] for t in block.transactions if t["hash"] in self.seen
        }

    async def apply(
        self, event: PendingSeen, env: BlockEnv, follower: Follower, rpc: RpcClient
    ) -> Applied | None:
        """Mines the pending transaction of ``event`` on the follower's pending chain; what
        it moved, or None when it moved no watched pool, is ours, a repeat, or not minable."""
        tx = event.tx
        tx_hash = str(tx.get("hash", "")).lower()
        if not tx_hash or tx_hash in self.seen or str(tx.get("from", "")).lower() in self.own:
            return None
        self.seen[tx_hash] = now_ms()
        raw = verified_raw(tx)
        if raw is None:
            try:
                raw = await asyncio.to_thread(rpc.call, "eth_getRawTransactionByHash", [tx_hash])
            except (RpcError, RpcTransportError):
                return None
            if not isinstance(raw, str):
                return None
        try:
            receipt = follower.apply_pending(raw, env)
        except FOLLOWER_FAULTS as exc:
            log.warning("pending %s: the follower failed (%s)", tx_hash, exc)
            return None
        if receipt is None:
            self.seen.pop(tx_hash)  # not pending any more (mined, or replaced)
            return None
        self.position += 1
        moved = set()
        for entry in receipt.logs:
            address = entry["address"].lower()
            if address not in self.running:
                continue
            decoded = decode_log(entry)
            if decoded is not None:
                self.running[address] = next_state(self.running[address], decoded)  # type: ignore[arg-type]
                moved.add(address)
        if not moved:
            return None
        row = mempool_row(
            tx, tx_hash=tx_hash, first_seen_ms=self.seen[tx_hash], source="live", raw=raw
        )
        placement = Placement(
            self.position,
            before=(raw,),
            gas_left=env.gas_limit - follower.pending_gas,
            arrived_ns=event.arrived_ns,
        )
        return Applied(
            pending_from_row(row, self.seen[tx_hash]), placement, frozenset(moved), self.running
        )
