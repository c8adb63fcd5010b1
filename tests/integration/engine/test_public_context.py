"""The pending context of a fork replay is what a searcher could know: with the devnet's public
mempool joined to an ingested range, backruns equal the genesis replay's to the wei (signed or
by impersonation); with one transaction made private, a later public one's context holds the
pools after the public transactions only, as a fresh fork of the archive node computes them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest

from tests.integration.engine.archive_range import FIRST, LAST, shown
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.market_spec import MARKET_FILE
from workbench.engine.loop import BlockResult
from workbench.engine.replay import Replay
from workbench.engine.replay_node import FORK_CACHE, ForkSource
from workbench.market.events import decode_log
from workbench.market.fetch import fetch_pool_state
from workbench.rpc import RpcClient
from workbench.sources.block_view import BlockData, load_blocks
from workbench.sources.dataset import Dataset
from workbench.sources.importers.ethereum_etl import import_ethereum_etl
from workbench.sources.importers.etl_export import export_ethereum_etl
from workbench.strategy.api import StrategyConfig, create
from workbench.strategy.context import PendingTx, StrategyContext

pytestmark = pytest.mark.timeout(900)
BACKRUN = {"min_net_profit": 0}


def _with_mempool(source: Path, out: Path, mempool: pl.DataFrame) -> Path:
    """A copy of ``source`` (its fork cache too: the same blocks) with ``mempool`` joined."""
    shutil.copytree(source, out)
    Dataset.open(out).append_mempool(mempool)
    return out


def _share_cache(source: Path, out: Path) -> None:
    """The fork's state ``source`` fetched, for ``out`` (a dataset of the same blocks)."""
    if (source / FORK_CACHE).is_dir():
        shutil.copytree(source / FORK_CACHE, out / FORK_CACHE, dirs_exist_ok=True)


def _devnet_mempool(devnet: Path) -> pl.DataFrame:
    return (
        Dataset.open(devnet)
        .read("mempool")
        .filter(pl.col("included_block").is_between(FIRST, LAST))
    )


@pytest.fixture(scope="module")
def public(ingested: Path, devnet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ingested range with the devnet's public mempool joined (every transaction public)."""
    out = tmp_path_factory.mktemp("public") / "dataset"
    return _with_mempool(ingested, out, _devnet_mempool(devnet))


def _backruns(dataset: Path, devnet: Path, fork: ForkSource | None = None) -> list[BlockResult]:
    market = devnet / MARKET_FILE if fork else None
    return Replay(dataset, create("backrun_arb", BACKRUN), fork=fork, market=market).run(
        FIRST, LAST
    )


def test_backruns_on_a_fork_equal_the_genesis_replay(
    public: Path, devnet: Path, archive: Anvil, tmp_path: Path
) -> None:
    genesis = _backruns(devnet, devnet)
    assert len([o for r in genesis for o in r.opportunities if o.sim.status == "success"]) >= 3
    forked = _backruns(public, devnet, ForkSource(url=archive.url))
    assert all(not r.fidelity.mismatches for r in forked)
    assert shown(forked) == shown(genesis)
    # the same blocks without signatures (ethereum-etl), the mempool joined: the targets ahead
    # of each backrun are sent unsigned from their impersonated senders
    export = tmp_path / "etl"
    export.mkdir()
    for name, items in export_ethereum_etl(Dataset.open(public)).items():
        for item in items:
            for signed in ("v", "r", "s", "y_parity", "raw"):
                item.pop(signed, None)
        (export / f"{name}.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    import_ethereum_etl(export, tmp_path / "unsigned", chain_id=31337)
    unsigned = tmp_path / "unsigned"
    _share_cache(public, unsigned)
    Dataset.open(unsigned).append_mempool(_devnet_mempool(devnet).with_columns(raw=None))
    again = _backruns(unsigned, devnet, ForkSource(url=archive.url))
    assert all(not r.fidelity.mismatches for r in again)
    assert shown(again) == shown(genesis)


class Recorder:
    """Records what each ``on_pending`` was shown; proposes nothing."""

    name: ClassVar[str] = "record_pending"

    def __init__(self) -> None:
        self.config = StrategyConfig()
        self.seen: dict[str, StrategyContext] = {}

    def on_block(self, ctx: StrategyContext) -> list[Any]:
        return []

    def on_pending(self, ctx: StrategyContext, tx: PendingTx) -> list[Any]:
        self.seen[tx.hash] = ctx
        return []


def _moves(block: BlockData, tx: dict[str, Any]) -> set[str]:
    return {
        str(log["address"]).lower()
        for log in block.logs_of(tx["hash"])
        if decode_log(log) is not None
    }


def _private_then_public(devnet: Path) -> Iterator[tuple[BlockData, int, int, str]]:
    """(block, j, k, pool): transaction j moves ``pool`` before k does, from another sender."""
    for block in load_blocks(Dataset.open(devnet), FIRST, LAST):
        txs = block.transactions
        for k in range(1, len(txs)):
            for j in range(k):
                common = _moves(block, txs[j]) & _moves(block, txs[k])
                if common and txs[j]["from"] != txs[k]["from"]:
                    yield block, j, k, min(common)


STATE_FIELDS = ("reserve0", "reserve1", "sqrt_price_x96", "tick", "liquidity")


def _state(pool: Any) -> dict[str, int]:
    return {f: getattr(pool, f) for f in STATE_FIELDS if hasattr(pool, f)}


def test_a_private_transaction_is_not_in_a_later_pending_context(
    ingested: Path, devnet: Path, archive: Anvil, tmp_path: Path
) -> None:
    block, j, k, pool = next(_private_then_public(devnet))
    private = block.transactions[j]["hash"]
    target = block.transactions[k]
    fork = ForkSource(url=archive.url)
    market = devnet / MARKET_FILE
    full = Recorder()  # every transaction public: the recorded block's state after the target
    everything = _with_mempool(ingested, tmp_path / "all-public", _devnet_mempool(devnet))
    Replay(everything, full, fork=fork, market=market).run(block.number, block.number)
    mempool = _devnet_mempool(devnet).filter(pl.col("hash") != private)
    dataset = _with_mempool(ingested, tmp_path / "dataset", mempool)
    _share_cache(everything, dataset)
    recorder = Recorder()
    Replay(dataset, recorder, fork=fork, market=market).run(block.number, block.number)
    shown_to_strategy = _state(recorder.seen[target["hash"]].pools[pool])

    # A fresh fork of the archive node at the parent: the public prefix alone, then the pool.
    config = AnvilConfig(fork_url=archive.url, fork_block_number=block.number - 1)
    with Anvil(config) as fresh, RpcClient(fresh.url) as rpc:
        rpc.call("anvil_setCoinbase", [block.miner])
        rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(block.base_fee)])
        rpc.call("evm_setAutomine", [False])
        for tx in block.transactions[: k + 1]:
            if tx["hash"] != private:
                rpc.call("eth_sendRawTransaction", [tx["raw"]])
        rpc.call("evm_mine", [block.timestamp])
        public_only = _state(fetch_pool_state(rpc, pool))
    assert shown_to_strategy == public_only
    # not the recorded block's state after the target, which holds the private effect
    assert _state(full.seen[target["hash"]].pools[pool]) != public_only
