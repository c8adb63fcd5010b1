"""Backtests of a real chain's data path: the devnet served as an archive node, its blocks
ingested over JSON-RPC (a fork-origin dataset) or exported without signatures in ethereum-etl's
format, then replayed on a fork of the node through the fork proxy. Everything must equal the
genesis replay of the same blocks to the wei; bad input is refused with the fix named."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.engine.archive_range import FIRST, LAST, shown
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.market_spec import MARKET_FILE, DeployedMarket
from workbench.cli import app
from workbench.engine.loop import BlockResult
from workbench.engine.replay import Replay
from workbench.engine.replay_node import FORK_CACHE, ForkSource
from workbench.errors import DatasetError
from workbench.rpc import RpcClient
from workbench.sources.dataset import Dataset
from workbench.sources.importers.ethereum_etl import import_ethereum_etl
from workbench.sources.importers.etl_export import export_ethereum_etl
from workbench.sources.ingest import ingest_blocks
from workbench.strategy.api import create

pytestmark = pytest.mark.timeout(600)
runner = CliRunner()


def _market(devnet: Path) -> Path:
    return devnet / MARKET_FILE


def _fork(dataset: Path, devnet: Path, fork: ForkSource, first: int = FIRST, last: int = LAST):
    return Replay(dataset, create("cyclic_arb"), fork=fork, market=_market(devnet)).run(first, last)


def test_an_ingested_range_replays_on_a_fork_as_on_its_genesis(
    ingested: Path, devnet: Path, archive: Anvil, genesis_results: list[BlockResult]
) -> None:
    assert Dataset.open(ingested).origin.kind == "fork"
    shutil.rmtree(ingested / FORK_CACHE, ignore_errors=True)  # another test may have filled it
    fork = ForkSource(url=archive.url)
    results = _fork(ingested, devnet, fork)
    assert all(not r.fidelity.mismatches and not r.fidelity.reforked for r in results)
    assert sum(r.fidelity.matched for r in results) == sum(r.tx_count for r in results) > 100
    assert shown(results) == shown(genesis_results)
    assert len(shown(results)) >= 3, "too few opportunities to compare"
    assert fork.stats.calls["eth_getStorageAt"] > 0  # the fork read its state upstream


def test_an_unsigned_ethereum_etl_export_replays_by_impersonation(
    ingested: Path, devnet: Path, archive: Anvil, genesis_results: list[BlockResult], tmp_path: Path
) -> None:
    export = tmp_path / "etl"
    export.mkdir()
    rows = export_ethereum_etl(Dataset.open(ingested))
    for tx in rows["transactions"]:
        for signed in ("v", "r", "s", "y_parity", "raw"):
            tx.pop(signed, None)
    for name, items in rows.items():
        (export / f"{name}.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    import_ethereum_etl(export, tmp_path / "etl-dataset", chain_id=31337)
    unsigned = Dataset.open(tmp_path / "etl-dataset")
    assert unsigned.read("transactions")["raw"].null_count() == unsigned.rows("transactions")
    results = _fork(tmp_path / "etl-dataset", devnet, ForkSource(url=archive.url))
    assert all(not r.fidelity.mismatches for r in results)
    assert sum(r.fidelity.matched for r in results) == sum(r.tx_count for r in results)
    assert shown(results) == shown(genesis_results)


def test_a_recorded_cassette_replays_with_no_node(
    ingested: Path, devnet: Path, archive: Anvil, tmp_path: Path
) -> None:
    cassette = tmp_path / "range.cassette.json"
    recorded = _fork(ingested, devnet, ForkSource(url=archive.url, record=cassette), last=FIRST + 4)
    offline = ForkSource(replay=cassette)  # no URL at all: nothing can reach a node
    again = _fork(ingested, devnet, offline, last=FIRST + 4)
    assert shown(again) == shown(recorded)
    assert [r.fidelity.matched for r in again] == [r.fidelity.matched for r in recorded]
    assert not offline.stats.calls  # zero upstream calls
    with pytest.raises(DatasetError, match=r"lacks .* answer.*record it again with --record"):
        _fork(ingested, devnet, ForkSource(replay=cassette), last=FIRST + 8)


def test_bad_input_is_refused_with_the_fix(ingested: Path, devnet: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="pass the node with --fork-url URL"):
        Replay(ingested, create("cyclic_arb"), market=_market(devnet)).run(FIRST, FIRST + 1)
    other_chain = pytest.raises(DatasetError, match="serves chain 1, the dataset chain 31337")
    with Anvil(AnvilConfig(chain_id=1)) as other, other_chain:
        _fork(ingested, devnet, ForkSource(url=other.url), last=FIRST + 1)
    not_archive = pytest.raises(DatasetError, match=r"no state at block 599.*not an archive node")
    with Anvil() as young, not_archive:  # chain 31337 but only its genesis block
        _fork(ingested, devnet, ForkSource(url=young.url), last=FIRST + 1)
    with pytest.raises(DatasetError, match=f"blocks {FIRST}-{LAST + 5} are not replayable"):
        _fork(ingested, devnet, ForkSource(url="http://127.0.0.1:9/"), last=LAST + 5)


def test_a_dataset_with_a_gap_is_refused(archive: Anvil, devnet: Path, tmp_path: Path) -> None:
    out = tmp_path / "gappy"
    with RpcClient(archive.url) as rpc:
        ingest_blocks(rpc, out, FIRST - 1, FIRST + 2)
        ingest_blocks(rpc, out, FIRST + 5, FIRST + 8)
    with pytest.raises(DatasetError, match=f"has a gap: blocks {FIRST + 3}-{FIRST + 4}"):
        _fork(out, devnet, ForkSource(url=archive.url), last=FIRST + 8)


SECRET = "Sup3rSecretKey0123456789abcdef"


def test_the_readme_commands_keep_the_nodes_key_out_of_everything(
    archive: Anvil, devnet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README "Backtest a real chain": ingest, discover, backtest and report through the
    command line, the node's URL (with a key) given only by the environment."""
    url = f"{archive.url.rstrip('/')}/?key={SECRET}"
    monkeypatch.setenv("WORKBENCH_RPC_URL", url)
    monkeypatch.setenv("WORKBENCH_FORK_URL", url)
    out, last = tmp_path / "chain", FIRST + 5
    ingest = runner.invoke(app, ["ingest", "--blocks", f"{FIRST - 1}-{last}", "--out", str(out)])
    assert ingest.exit_code == 0, ingest.output
    devnet_market = DeployedMarket.load(devnet / MARKET_FILE)
    factories = [f"--v2-factory={n}={a}" for n, a in devnet_market.v2_factories.items()]
    discover = runner.invoke(
        app,
        [
            *("market", "discover", "--block", str(FIRST - 1), "--out", str(out / MARKET_FILE)),
            *("--weth", devnet_market.weth, f"--v3-factory={devnet_market.v3_factory}"),
            *factories,
        ],
    )
    assert discover.exit_code == 0, discover.output
    db = tmp_path / "runs.db"
    backtest = runner.invoke(
        app,
        [
            "backtest",
            "--dataset",
            str(out),
            "--blocks",
            f"{FIRST}-{last}",
            "--db",
            f"sqlite:///{db}",
        ],
        terminal_width=300,
    )
    assert backtest.exit_code == 0, backtest.output
    fidelity = re.search(r"replay fidelity \(transactions\)\D+([\d,]+) / ([\d,]+)", backtest.output)
    assert fidelity and fidelity[1] == fidelity[2] and int(fidelity[1].replace(",", "")) > 10
    seen = re.search(
        r"seen in the public mempool\D+([\d,]+) / ([\d,]+) transactions", backtest.output
    )
    assert seen and (seen[1], seen[2]) == ("0", fidelity[2])  # ingested blocks, no mempool
    report = Path(backtest.output.strip().splitlines()[-1])
    written = [db, report, *(p for p in out.rglob("*") if p.is_file())]
    assert any(p.parent.name == FORK_CACHE or FORK_CACHE in p.parts for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    for text in (ingest.output, discover.output, backtest.output):
        assert SECRET not in text
