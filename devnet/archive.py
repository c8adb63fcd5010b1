"""A devnet history served as an archive node: its genesis state loaded and every recorded block
mined again on one Anvil that keeps each block's state, so that it answers historical queries
as a real archive node does. What fork replays, ingests and their tests run against."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devnet.config import DevnetError
from workbench.chain.anvil import Anvil
from workbench.engine.block_apply import apply_block
from workbench.engine.replay_node import replay_node
from workbench.sources.block_view import load_blocks
from workbench.sources.dataset import Dataset

_STATES = 100_000  # far more than a devnet history's blocks


@contextmanager
def archive_node(root: Path | str, last: int | None = None) -> Iterator[Anvil]:
    """An Anvil holding the history of the devnet at ``root`` through block ``last`` (all of
    it by default), every block as recorded (checked); stopped on exit."""
    dataset = Dataset.open(root)
    held = dataset.block_range
    if held is None:
        raise DevnetError(f"{root} holds no blocks")
    last = held[1] if last is None else last
    with replay_node(dataset, keep_states=_STATES) as node:
        for block in load_blocks(dataset, dataset.origin.block_number + 1, last):
            fidelity = apply_block(node, block)
            if fidelity.mismatches:
                raise DevnetError(
                    f"block {block.number} of {root} does not replay: {fidelity.mismatches[0]}"
                )
        yield node
