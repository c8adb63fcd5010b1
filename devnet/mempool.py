"""The simulated public mempool: signed transactions with first-seen times, and the block
builder's choice (highest effective priority fee first, each sender's nonces in order)."""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from devnet.trades import Trade


@dataclass(slots=True, kw_only=True)
class MempoolEntry:
    """A signed transaction as the network saw it; ``included_block`` once mined."""

    hash: str
    raw: bytes
    sender: str
    nonce: int
    to: str
    data: bytes
    gas: int
    max_fee: int
    tip: int
    first_seen_ms: int
    agent: str
    trade: Trade
    included_block: int | None = field(default=None)

    def effective_tip(self, base_fee: int) -> int:
        return min(self.tip, self.max_fee - base_fee)


def sign(
    account: LocalAccount,
    *,
    chain_id: int,
    nonce: int,
    to: str | None,
    data: bytes,
    gas: int,
    max_fee: int,
    tip: int,
) -> tuple[str, bytes]:
    """(hash, raw bytes) of an EIP-1559 transaction signed locally (deterministic: RFC 6979);
    ``to`` None creates a contract."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "value": 0,
        "data": data,
        "gas": gas,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": tip,
    }
    if to is not None:
        tx["to"] = to
    signed = account.sign_transaction(tx)
    raw = bytes(signed.raw_transaction)
    return "0x" + keccak(raw).hex(), raw


class Mempool:
    """Pending transactions by hash, in arrival order."""

    def __init__(self) -> None:
        self.pending: dict[str, MempoolEntry] = {}

    def add(self, tx: MempoolEntry) -> None:
        self.pending[tx.hash] = tx

    def seen_by(self, time_ms: int) -> list[MempoolEntry]:
        return [tx for tx in self.pending.values() if tx.first_seen_ms <= time_ms]

    def block_order(self, time_ms: int, base_fee: int) -> list[MempoolEntry]:
        """What a builder at ``time_ms`` would try to include, in order."""
        return builder_order(self.seen_by(time_ms), base_fee)


def builder_order(txs: list[MempoolEntry], base_fee: int) -> list[MempoolEntry]:
    """Greedy by effective tip (ties: first seen), one sender's nonces in sequence; skips
    transactions that cannot pay ``base_fee`` and every later nonce of their sender."""
    by_sender: defaultdict[str, list[MempoolEntry]] = defaultdict(list)
    for tx in sorted(txs, key=lambda t: t.nonce):
        by_sender[tx.sender].append(tx)
    heap: list[tuple[int, int, str, int]] = []
    for sender, queue in by_sender.items():
        _push(heap, sender, queue, 0, base_fee)
    order: list[MempoolEntry] = []
    while heap:
        _, _, sender, i = heapq.heappop(heap)
        queue = by_sender[sender]
        order.append(queue[i])
        _push(heap, sender, queue, i + 1, base_fee)
    return order


def _push(
    heap: list[tuple[int, int, str, int]],
    sender: str,
    queue: list[MempoolEntry],
    i: int,
    base_fee: int,
) -> None:
    if i >= len(queue) or queue[i].max_fee < base_fee:
        return
    if i > 0 and queue[i].nonce != queue[i - 1].nonce + 1:
        return
    tx = queue[i]
    heapq.heappush(heap, (-tx.effective_tip(base_fee), tx.first_seen_ms, sender, i))
