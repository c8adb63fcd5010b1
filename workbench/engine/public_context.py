"""What a searcher could know of a block when a public transaction of it arrives: the parent
state and the block's public transactions up to it, never the private ones recorded before it.

A private transaction (no public mempool saw it: a builder's bundle, private order flow) is
invisible to a live runner until its block is out. Where one precedes a public target in its
block, the pools after the target cannot be read from the block's logs (they carry the private
effects): the public prefix is mined on the replay node between snapshot and revert, and the
pools are followed through the logs of that execution. The same prefix is what the intent's
simulation runs ahead of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.chain.anvil_control import AnvilControl
from workbench.chain.recorded_tx import Sendable, is_send, send_calls, sendable, stop_calls
from workbench.market.events import LogDecodeError, decode_log
from workbench.market.market_state import next_state
from workbench.market.pool import PoolState
from workbench.rpc import unwrap_batch
from workbench.sources.block_view import BlockData


@dataclass(frozen=True)
class PublicContext:
    before: tuple[Sendable, ...]  # the public prefix that executed, the target last
    pools: dict[str, PoolState]  # every watched pool after it
    moved: frozenset[str]  # the watched pools the target itself moved


def has_private_before(block: BlockData, position: int) -> bool:
    """Whether a private transaction precedes the one at ``position`` in ``block``."""
    return any(t["hash"] not in block.first_seen_ms for t in block.transactions[:position])


def public_prefix(block: BlockData, position: int) -> list[dict[str, Any]]:
    """The public transactions of ``block`` up to and including the one at ``position``."""
    return [t for t in block.transactions[: position + 1] if t["hash"] in block.first_seen_ms]


def public_context(
    node: AnvilControl,
    block: BlockData,
    position: int,
    parent_pools: Mapping[str, PoolState],
) -> PublicContext | None:
    """Mines the public prefix up to ``position`` on ``node`` (at the block's parent state,
    left as it was) and follows ``parent_pools`` through its logs. None when the target does
    not execute without what was private before it (its sender's private transaction took its
    nonce, say): a live runner could not have acted on it either."""
    items = [sendable(t) for t in public_prefix(block, position)]
    impersonated: set[str] = set()
    sends = send_calls(items, impersonated)
    calls = [
        ("evm_snapshot", []),
        ("anvil_setCoinbase", [block.miner]),
        ("anvil_setNextBlockBaseFeePerGas", [hex(block.base_fee)]),
        *sends,
    ]
    answers = node.rpc.batch(calls)
    snapshot = unwrap_batch(answers[:3])[0]
    try:
        node.mine(timestamp=block.timestamp)
        hashes = [a for c, a in zip(sends, answers[3:], strict=True) if is_send(c)]
        taken = [(item, h) for item, h in zip(items, hashes, strict=True) if isinstance(h, str)]
        receipts = unwrap_batch(
            node.rpc.batch([("eth_getTransactionReceipt", [h]) for _, h in taken])
        )
    finally:
        # (after the revert, a refused or unmined transaction may linger in the pool)
        node.rpc.batch(
            [
                *stop_calls(impersonated),
                ("evm_revert", [snapshot]),
                ("anvil_dropAllTransactions", []),
            ]
        )
    if not taken or taken[-1][0] is not items[-1] or receipts[-1] is None:
        return None
    pools = dict(parent_pools)
    moved: set[str] = set()
    for i, receipt in enumerate(receipts):
        for log in (receipt or {}).get("logs") or ():
            try:
                event = decode_log(log)
            except LogDecodeError:
                continue
            key = str(log["address"]).lower()
            if event is None or key not in pools:
                continue
            pools[key] = next_state(pools[key], event)
            if i == len(receipts) - 1:
                moved.add(key)
    kept = tuple(item for (item, _), r in zip(taken, receipts, strict=True) if r is not None)
    return PublicContext(kept, pools, frozenset(moved))
