"""Joins recorded pending transactions with the blocks that included them.

Fills ``mempool.included_block`` by transaction hash from a ``transactions`` table. Only the
mempool parts that gain a value are rewritten, each into a new file; the manifest swap is the
commit point (as for appends) and the replaced files are deleted after it, so a crash leaves
the old state or the new one. Done under the dataset's write lock with the manifest re-read,
so parts appended meanwhile by another process are kept.
"""

from __future__ import annotations

import uuid

import polars as pl

from workbench.sources.dataset import Dataset


def join_inclusion(dataset: Dataset, blocks_from: Dataset | None = None) -> int:
    """Fills ``included_block`` in ``dataset``'s mempool rows from the transactions of
    ``blocks_from`` (default: the same dataset). Returns how many rows gained a block.

    Rows already joined keep their value. Uses ``Dataset`` internals (its lock, part writer and
    manifest) because the dataset API has appends only.
    """
    source = blocks_from or dataset
    waiting = (
        dataset.scan("mempool").filter(pl.col("included_block").is_null()).select("hash").collect()
    )
    included = (
        source.scan("transactions")
        .filter(pl.col("hash").is_in(waiting["hash"].implode()))
        .select("hash", pl.col("block_number").alias("_included"))
        .unique("hash", keep="first")
        .collect()
    )
    if not included.height:
        return 0
    filled = 0
    with dataset._locked():
        dataset.manifest = Dataset.open(dataset.root, verify=False).manifest
        replaced = []
        for part in dataset.parts("mempool"):
            rows = pl.read_parquet(dataset.root / part.path)
            joined = (
                rows.join(included, on="hash", how="left", maintain_order="left")
                .select(
                    pl.exclude("included_block", "_included"),
                    pl.coalesce("included_block", "_included").alias("included_block"),
                )
                .select(rows.columns)
            )
            gained = joined["included_block"].count() - rows["included_block"].count()
            if not gained:
                continue
            entry = next(
                f for f in dataset.manifest["tables"]["mempool"]["files"] if f["path"] == part.path
            )
            dataset.manifest["tables"]["mempool"]["files"].remove(entry)
            dataset.manifest["tables"]["mempool"]["rows"] -= entry["rows"]
            stem = part.path.rsplit("/", 1)[-1].removesuffix(".parquet").split(".joined-")[0]
            dataset._write_part(
                "mempool", f"{stem}.joined-{uuid.uuid4().hex[:8]}", joined, None, None
            )
            replaced.append(dataset.root / part.path)
            filled += gained
        if replaced:
            dataset._save_manifest()
    for path in replaced:
        path.unlink(missing_ok=True)
    return filled
