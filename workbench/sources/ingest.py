"""Block ingest from a JSON-RPC node into a dataset: batched, chunked, resumable, reorg-safe.

Blocks are read in chunks (one or two batched requests each, see ``block_fetch``) and every
chunk is committed with one ``Dataset.append_blocks``: a killed ingest loses at most the chunk
in flight, and a rerun fetches only what ``missing_blocks`` reports. A chunk is refused when it does not
link by parent hash to the blocks already stored around it (the chain reorganised between runs).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError, DatasetError
from workbench.rpc import RpcClient
from workbench.rpc.redact import redact_url
from workbench.sources.block_fetch import BlockFetcher, ChainChanged, Tables
from workbench.sources.dataset import Dataset
from workbench.sources.mempool_join import join_inclusion
from workbench.sources.rpc_convert import quantity

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
TRIES = 3
"""Reads of one chunk before giving up when the node's answers do not fit together."""


def parse_block_range(text: str) -> tuple[int, int]:
    """``"A-B"`` (inclusive) or ``"N"`` as ``(first, last)``; ``ConfigError`` otherwise."""
    m = _RANGE.match(text)
    if m is None:
        raise ConfigError(
            f"block range {text!r} is not A-B or a block number; write e.g. 100-199 (inclusive) or 150"
        )
    first = int(m[1])
    last = int(m[2]) if m[2] is not None else first
    if last < first:
        raise ConfigError(
            f"block range {text!r} ends at {last}, before its start {first}; write {last}-{first}"
        )
    return first, last


@dataclass(slots=True)
class IngestReport:
    """What one ``ingest_blocks`` run did."""

    dataset: Path
    requested: int
    already_held: int
    blocks: int = 0
    transactions: int = 0
    logs: int = 0
    raw_missing: int = 0  # transactions whose signed bytes could not be obtained and verified
    raw_from_node: int = 0  # raw bytes from eth_getRawTransactionByHash: re-encoding did not hash
    receipts_via: str = "eth_getBlockReceipts"
    mempool_joined: int = 0
    seconds: float = 0.0

    @property
    def blocks_per_s(self) -> float:
        return self.blocks / self.seconds if self.seconds else 0.0


def ingest_blocks(
    rpc: RpcClient,
    out: Path | str,
    first: int,
    last: int,
    *,
    chunk_blocks: int = 100,
    batch_size: int = 200,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingests blocks ``first..last`` from ``rpc`` into the dataset at ``out`` (created if absent).

    ``on_progress(done, total)`` is called before the first chunk and after each commit.
    Raises ``ConfigError`` for a range beyond the head, ``DatasetError`` for a dataset of another
    chain, a corrupt one, or blocks that do not link to those already stored.
    """
    if chunk_blocks < 1 or batch_size < 1:
        raise ConfigError("chunk_blocks and batch_size must be at least 1")
    source = "rpc:" + redact_url(rpc.url)
    chain_id = quantity(rpc.call("eth_chainId"))
    head = quantity(rpc.call("eth_blockNumber"))
    assert chain_id is not None and head is not None
    if last > head:
        raise ConfigError(
            f"blocks {first}-{last} go beyond the chain head: {source} is at block {head}; "
            f"ask for blocks up to {head}"
        )
    ds = Dataset.open_or_create(out, chain_id=chain_id, source=source)
    gaps = ds.missing_blocks(first, last)
    todo = sum(b - a + 1 for a, b in gaps)
    report = IngestReport(ds.root, requested=last - first + 1, already_held=last - first + 1 - todo)
    fetcher = BlockFetcher(rpc, batch_size=batch_size)
    started = time.perf_counter()
    if on_progress is not None:
        on_progress(0, todo)
    for gap_first, gap_last in gaps:
        prev_hash = _stored(ds, gap_first - 1, "hash")
        next_parent = _stored(ds, gap_last + 1, "parent_hash")
        for a in range(gap_first, gap_last + 1, chunk_blocks):
            b = min(a + chunk_blocks - 1, gap_last)
            tables = _fetch(fetcher, a, b, source)
            blocks = tables["blocks"]
            _check_link(ds, a - 1, prev_hash, blocks["parent_hash"][0], source)
            if b == gap_last:
                _check_link(ds, b, blocks["hash"][-1], next_parent, source)
            ds.append_blocks(a, b, tables)
            prev_hash = blocks["hash"][-1]
            report.blocks += b - a + 1
            report.transactions += tables["transactions"].height
            report.logs += tables["logs"].height
            report.raw_missing += tables["transactions"]["raw"].null_count()
            if on_progress is not None:
                on_progress(report.blocks, todo)
    if not fetcher.block_receipts:
        report.receipts_via = "eth_getTransactionReceipt"
    report.raw_from_node = fetcher.raw_from_node
    if ds.rows("mempool"):
        report.mempool_joined = join_inclusion(ds)
    report.seconds = time.perf_counter() - started
    return report


def _fetch(fetcher: BlockFetcher, first: int, last: int, source: str) -> Tables:
    """The chunk, read again (after a pause) while the node's answers do not fit together."""
    for attempt in range(1, TRIES):
        try:
            return fetcher.fetch(first, last)
        except ChainChanged:
            time.sleep(0.2 * attempt)
    try:
        return fetcher.fetch(first, last)
    except ChainChanged as exc:
        raise DatasetError(
            f"blocks {first}-{last} from {source}: {exc} ({TRIES} reads); the chain may be "
            "reorganising near its head (ingest older blocks) or the node is inconsistent"
        ) from None


def _stored(ds: Dataset, number: int, column: str) -> str | None:
    """A column of block ``number`` if the dataset holds it."""
    if number < 0:
        return None
    rows = ds.read("blocks", (number, number))
    return str(rows[column][0]) if rows.height else None


def _check_link(
    ds: Dataset, number: int, hash_: str | None, child_parent: str | None, source: str
) -> None:
    """Block ``number + 1``'s parent hash must be block ``number``'s hash when both are known."""
    if hash_ is None or child_parent is None or hash_ == child_parent:
        return
    raise DatasetError(
        f"{ds.root}: block {number + 1} has parent hash {child_parent} but block {number} has hash "
        f"{hash_}: the chain reorganised since part of this range was ingested (or {source} serves "
        f"another fork). Re-ingest from a block before the reorg into a new --out directory."
    )
