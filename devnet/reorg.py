"""A reorg on the live devnet: its last blocks rolled back and mined again with the recorded
transactions only, so every searcher's bundle in them is orphaned (as when another builder's
blocks win), by another coinbase, so each new block has another hash even where no bundle was
in it."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from devnet.builder import BuiltBlock
from devnet.config import DevnetError
from workbench.chain.anvil import Anvil

REORG_COINBASE = "0x000000000000000000000000000000000000dead"


def remine(
    node: Anvil, orphaned: Sequence[BuiltBlock], recorded: Collection[str]
) -> list[BuiltBlock]:
    """Rolls ``node`` back below ``orphaned`` (its last blocks, in order) and mines each again
    from its transactions whose hash is in ``recorded``; the pool is left empty. Returns the
    new blocks."""
    rpc = node.rpc
    kept: list[list[str]] = []
    for built in orphaned:
        block = rpc.call("eth_getBlockByNumber", [hex(built.number), False])
        hashes = [h for h in block["transactions"] if h in recorded]
        kept.append([rpc.call("eth_getRawTransactionByHash", [h]) for h in hashes])
    rpc.call("anvil_rollback", [len(orphaned)])
    out = []
    for built, raws in zip(orphaned, kept, strict=True):
        rpc.call("anvil_dropAllTransactions")
        for raw in raws:
            rpc.call("eth_sendRawTransaction", [raw])
        rpc.call("anvil_setCoinbase", [REORG_COINBASE])
        node.mine(timestamp=built.timestamp)
        block = rpc.call("eth_getBlockByNumber", ["latest", False])
        if int(block["number"], 16) != built.number or len(block["transactions"]) != len(raws):
            raise DevnetError(
                f"re-mining block {built.number} gave block {int(block['number'], 16)} with "
                f"{len(block['transactions'])} of its {len(raws)} recorded transactions"
            )
        out.append(
            dataclasses.replace(
                built, hash=block["hash"], tx_count=len(raws), bundles=(), rejected=()
            )
        )
    return out
