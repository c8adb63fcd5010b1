"""The devnet history on a real Anvil: a valid dataset, the same hashes for the same seed,
a rebuild from the genesis state, and agents that behave as described (swaps on every venue,
arbitrage with coinbase bids, a mempool seen before inclusion, a moving base fee)."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from eth_utils import keccak
from typer.testing import CliRunner

from devnet import (
    DevnetConfig,
    DevnetError,
    generate,
    generator,
    load_info,
    rebuild,
)
from devnet import default as default_module
from devnet.keys import agent_account
from workbench.chain.market_spec import DeployedMarket
from workbench.cli import app
from workbench.sources.dataset import Dataset

BLOCKS = 30
runner = CliRunner()
SWAP_V2 = "0x" + keccak(b"Swap(address,uint256,uint256,uint256,uint256,address)").hex()
SWAP_V3 = "0x" + keccak(b"Swap(address,address,int256,int256,uint160,uint128,int24)").hex()
WITHDRAWAL = "0x" + keccak(b"Withdrawal(address,uint256)").hex()


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("devnet") / "seed1"
    generate(out, DevnetConfig(seed=1, blocks=BLOCKS))
    return out


def hashes(root: Path) -> list[str]:
    return Dataset.open(root).read("blocks").sort("number")["hash"].to_list()


def test_the_dataset_is_valid_complete_and_holds_no_keys(devnet: Path) -> None:
    ds = Dataset.open(devnet)  # verifies every file's checksum and schema
    info = load_info(devnet)
    first, last = info["blocks"]
    assert ds.source == "devnet" and ds.block_range == (first, last) and last - first + 1 == BLOCKS
    blocks = ds.read("blocks").sort("number")
    genesis = info["genesis"]
    assert blocks["parent_hash"][0] == genesis["block_hash"]
    assert blocks["timestamp"].to_list() == [
        genesis["timestamp"] + 12 * i for i in range(1, BLOCKS + 1)
    ]
    txs = ds.read("transactions")
    assert txs.height > 5 * BLOCKS and txs["raw"].null_count() == 0
    assert DeployedMarket.load(devnet / "market.json").chain_id == ds.chain_id
    bots = [a["name"] for a in info["agents"] if a["role"] == "bot"]
    accounts = [
        agent_account(
            1,
            a["role"],
            bots.index(a["name"]) if a["role"] == "bot" else int(a["name"].split("-")[1]),
        )
        for a in info["agents"]
    ]
    assert [acc.address for acc in accounts] == [a["address"] for a in info["agents"]]
    keys = [bytes(acc.key).hex() for acc in accounts]
    for path in devnet.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(k.encode() in data or bytes.fromhex(k) in data for k in keys), path


def test_same_seed_same_block_hashes(devnet: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    result = runner.invoke(
        app, ["devnet", "generate", "--out", str(out), "--blocks", "12", "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert hashes(out) == hashes(devnet)[:12]  # a shorter run is a prefix of a longer one
    genesis = load_info(devnet)["genesis"]["state"]
    assert (out / genesis).read_bytes() == (devnet / genesis).read_bytes()


def test_another_seed_gives_another_chain(devnet: Path, tmp_path: Path) -> None:
    generate(tmp_path / "seed2", DevnetConfig(seed=2, blocks=2))
    assert not set(hashes(tmp_path / "seed2")) & set(hashes(devnet))
    assert (
        load_info(tmp_path / "seed2")["genesis"]["block_hash"]
        != load_info(devnet)["genesis"]["block_hash"]
    )


def test_rebuild_from_genesis_gives_identical_hashes(devnet: Path) -> None:
    done = rebuild(devnet)
    assert (done.first_block, done.last_block) == tuple(load_info(devnet)["blocks"])
    assert done.last_hash == hashes(devnet)[-1]
    result = runner.invoke(app, ["devnet", "rebuild", str(devnet), "--blocks", "5"])
    assert result.exit_code == 0 and "identical" in result.output, result.output


def test_rebuild_names_the_first_block_that_differs(devnet: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(devnet, copy)
    info = json.loads((copy / "devnet.json").read_text())
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["origin"]["coinbase"] = "0x" + "99" * 20  # where the replay starts mining
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DevnetError, match=f"block {info['blocks'][0]} rebuilt as"):
        rebuild(copy, blocks=3)


def test_swaps_on_both_v2_dexes_and_the_v3_pools(devnet: Path) -> None:
    market = DeployedMarket.load(devnet / "market.json")
    logs = Dataset.open(devnet).read("logs")
    swaps = logs.filter(pl.col("topics").list.first().is_in([SWAP_V2, SWAP_V3]))
    touched = set(swaps["address"].to_list())
    for dex in ("uniswap", "forkswap"):
        pairs = {a.lower() for k, a in market.v2_pairs.items() if k.startswith(f"{dex}:")}
        assert touched & pairs, f"no swap on {dex}"
    v3 = {a.lower() for a in market.v3_pools.values()}
    assert len(touched & v3) >= 4
    assert load_info(devnet)["stats"]["exact_math_disagreements"] == 0


def test_bots_arbitrage_and_pay_the_coinbase(devnet: Path) -> None:
    info = load_info(devnet)
    ds = Dataset.open(devnet)
    bots = {
        a["address"].lower(): a["executor"].lower() for a in info["agents"] if a["role"] == "bot"
    }
    assert len(bots) == 2
    txs = ds.read("transactions").filter(pl.col("from").is_in(list(bots)))
    assert txs.height > 0 and set(txs["to"]) <= set(bots.values())
    receipts = ds.read("receipts").filter(pl.col("transaction_hash").is_in(txs["hash"].to_list()))
    paid = ds.read("logs").filter(
        pl.col("transaction_hash").is_in(
            receipts.filter(pl.col("status") == 1)["transaction_hash"].to_list()
        )
        & (pl.col("topics").list.first() == WITHDRAWAL)  # WETH unwrapped for the coinbase bid
    )
    assert paid.height > 0
    assert int(info["stats"]["coinbase_bids_wei"]) > 0


def test_mempool_first_seen_precedes_inclusion(devnet: Path) -> None:
    ds = Dataset.open(devnet)
    mempool = ds.read("mempool")
    assert set(mempool["source"]) == {"devnet"} and mempool["raw"].null_count() == 0
    assert set(ds.read("transactions")["hash"]) <= set(mempool["hash"])
    included = mempool.join(
        ds.read("blocks").select("number", "timestamp"), left_on="included_block", right_on="number"
    )
    assert included.height == ds.rows("transactions")
    assert (included["first_seen_ms"] < included["timestamp"].cast(pl.Int64) * 1000).all()
    assert (included["first_seen_ms"] >= included["timestamp"].cast(pl.Int64) * 1000 - 60_000).all()
    stats = load_info(devnet)["stats"]
    assert stats["mempool"]["included_after_their_slot"] > 0  # some waited for a later block
    assert stats["reverted"] > 0  # slippage and lost races


def test_base_fee_moves_both_ways(devnet: Path) -> None:
    fees = [int(f) for f in Dataset.open(devnet).read("blocks").sort("number")["base_fee_per_gas"]]
    steps = [b - a for a, b in itertools.pairwise(fees)]
    assert any(s > 0 for s in steps) and any(s < 0 for s in steps)


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["devnet", "generate", "--out", str(tmp_path), "--blocks", "1"])
    assert result.exit_code == 2 and "--force" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_an_interrupted_run_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(node: Any, spec: Any, config: Any, out: Path) -> None:
        (out / "half.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(generator, "setup_chain", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate(tmp_path / "out", DevnetConfig(blocks=1))
    assert list(tmp_path.iterdir()) == []


def test_ensure_default_dataset_builds_only_when_needed(
    devnet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(default_module, "default_dataset_path", lambda: devnet)
    monkeypatch.setattr(default_module, "generate", lambda path, *a, **k: calls.append(path))
    monkeypatch.setattr(default_module, "DevnetConfig", lambda: DevnetConfig(seed=1, blocks=BLOCKS))
    assert default_module.ensure_default_dataset() == devnet and calls == []
    monkeypatch.setattr(default_module, "DevnetConfig", DevnetConfig)  # the default: 300 blocks
    default_module.ensure_default_dataset()
    assert calls == [devnet]
