"""Replaying a devnet history: load its genesis state into a fresh Anvil (the dataset's
origin, as every replay starts), send each block's raw transactions in their recorded order,
mine at the recorded timestamp, and compare hashes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devnet.config import DevnetError
from devnet.generator import DEVNET_FILE
from workbench.engine.replay_node import replay_node
from workbench.sources.dataset import Dataset


def load_info(root: Path | str) -> dict[str, Any]:
    """devnet.json of a finished devnet directory."""
    path = Path(root) / DEVNET_FILE
    if not path.is_file():
        raise DevnetError(f"{root} is not a devnet directory: {DEVNET_FILE} is missing")
    info: dict[str, Any] = json.loads(path.read_text())
    if not info.get("complete"):
        raise DevnetError(f"{root} holds an unfinished devnet; generate it again")
    return info


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """Blocks replayed, all with the recorded hashes."""

    first_block: int
    last_block: int
    transactions: int
    last_hash: str


def rebuild(
    root: Path | str,
    *,
    blocks: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Rebuilt:
    """Replays the dataset (its first ``blocks`` blocks, or all) from the genesis state and
    checks every block hash; raises ``DevnetError`` at the first that differs."""
    dataset = Dataset.open(root)
    if dataset.block_range is None:
        raise DevnetError(f"{root} holds no blocks")
    first, last = dataset.block_range
    if blocks is not None:
        last = min(last, first + blocks - 1)
    recorded = dataset.read("blocks", (first, last)).sort("number").to_dicts()
    raws: defaultdict[int, list[str]] = defaultdict(list)
    txs = dataset.read("transactions", (first, last)).sort("block_number", "transaction_index")
    for number, raw, tx_hash in txs.select("block_number", "raw", "hash").iter_rows():
        if raw is None:
            raise DevnetError(f"transaction {tx_hash} in block {number} has no raw bytes")
        raws[number].append(raw)
    with replay_node(dataset) as node:
        for i, block in enumerate(recorded, 1):
            number = block["number"]
            for raw in raws[number]:
                node.rpc.call("eth_sendRawTransaction", [raw])
            node.mine(timestamp=block["timestamp"])
            got = node.rpc.call("eth_getBlockByNumber", [hex(number), False])
            if got["hash"] != block["hash"]:
                raise DevnetError(_mismatch(number, block, got))
            if progress:
                progress(i, len(recorded))
    return Rebuilt(first, last, txs.height, recorded[-1]["hash"])


def _mismatch(number: int, recorded: dict[str, Any], got: dict[str, Any]) -> str:
    fields = {
        "transactions": (recorded["transaction_count"], len(got["transactions"])),
        "gas used": (recorded["gas_used"], int(got["gasUsed"], 16)),
        "state root": (recorded["state_root"], got["stateRoot"]),
    }
    differ = ", ".join(f"{k} {a} vs {b}" for k, (a, b) in fields.items() if a != b)
    return (
        f"block {number} rebuilt as {got['hash']}, recorded as {recorded['hash']}"
        f" ({differ or 'header fields differ'})"
    )
