"""The Anvil a replay starts on, built from the dataset's origin (``workbench.sources.origin``):
the engine knows nothing of how a dataset was made, only where its chain begins."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.errors import DatasetError
from workbench.sources.dataset import Dataset
from workbench.sources.origin import ForkOrigin, GenesisOrigin

FORK_URL_FLAG = "--fork-url"


def genesis_config(dataset: Dataset, origin: GenesisOrigin, state: Path) -> AnvilConfig:
    """Anvil's options to continue the chain from the genesis state file ``state``."""
    return AnvilConfig(
        chain_id=dataset.chain_id,
        timestamp=origin.timestamp,  # else Anvil's clock starts at the wall clock
        hardfork=origin.hardfork,
        gas_limit=origin.gas_limit,
        mining="none",
        order="fifo",
        load_state=state,
    )


@contextmanager
def replay_node(dataset: Dataset) -> Iterator[Anvil]:
    """An Anvil at the head the dataset's replay starts from (checked); stopped on exit."""
    origin = dataset.origin
    if isinstance(origin, ForkOrigin):
        raise DatasetError(
            f"{dataset.root} holds blocks of chain {origin.chain_id}: its replay forks an "
            f"archive node at block {origin.block_number}; pass the node with "
            f"{FORK_URL_FLAG} URL (the URL is never stored)"
        )
    fd, name = tempfile.mkstemp(prefix="replay-genesis-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(origin.state_bytes(dataset.root))
        with Anvil(genesis_config(dataset, origin, Path(name))) as node:
            node.rpc.call("anvil_setCoinbase", [origin.coinbase])
            head = node.rpc.call("eth_getBlockByNumber", ["latest", False])
            if head["hash"] != origin.block_hash:
                raise DatasetError(
                    f"the genesis state of {dataset.root} loads to block "
                    f"{int(head['number'], 16)} {head['hash']}, not {origin.block_hash}: the "
                    "state file or Anvil differs"
                )
            yield node
    finally:
        Path(name).unlink(missing_ok=True)
