"""The devnet's history served as an archive node, for the tests of a real chain's data path
(fork replays, market discovery): one per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet import ensure_default_dataset
from devnet.archive import archive_node
from tests.integration.engine.archive_range import ARCHIVE_LAST, FIRST, LAST
from workbench.chain.anvil import Anvil
from workbench.engine.loop import BlockResult
from workbench.engine.replay import Replay
from workbench.rpc import RpcClient
from workbench.sources.ingest import ingest_blocks
from workbench.strategy.api import create


@pytest.fixture(scope="session")
def devnet() -> Path:
    return ensure_default_dataset()


@pytest.fixture(scope="session")
def archive(devnet: Path) -> Iterator[Anvil]:
    with archive_node(devnet, ARCHIVE_LAST) as node:
        yield node


@pytest.fixture(scope="session")
def ingested(archive: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fork") / "ingested"
    with RpcClient(archive.url) as rpc:
        ingest_blocks(rpc, out, FIRST - 1, LAST)
    return out


@pytest.fixture(scope="session")
def genesis_results(devnet: Path) -> list[BlockResult]:
    return Replay(devnet, create("cyclic_arb")).run(FIRST, LAST)
