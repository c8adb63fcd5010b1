"""`workbench market discover` on the devnet served as an archive node: the market found from
the factories' creation events is the devnet's own (every pool, every token with its decimals),
and a fork replay watching it decides what the genesis replay does, to the wei."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from devnet.spec import DECIMALS
from tests.integration.engine.archive_range import FIRST, LAST, shown
from workbench.chain.anvil import Anvil
from workbench.chain.market_spec import MARKET_FILE, DeployedMarket
from workbench.cli import app
from workbench.engine.loop import BlockResult
from workbench.engine.replay import Replay
from workbench.engine.replay_node import ForkSource
from workbench.errors import MarketError
from workbench.market.discover import decode_symbol, discover_market
from workbench.rpc import RpcClient
from workbench.strategy.api import create

pytestmark = pytest.mark.timeout(600)
runner = CliRunner()


def _factories(market: DeployedMarket) -> list[str]:
    args = [f"--v2-factory={name}={a}" for name, a in market.v2_factories.items()]
    return [*args, f"--v3-factory={market.v3_factory}"]


@pytest.fixture(scope="module")
def devnet_market(devnet: Path) -> DeployedMarket:
    return DeployedMarket.load(devnet / MARKET_FILE)


@pytest.fixture(scope="module")
def discovered(archive: Anvil, devnet_market: DeployedMarket, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("discover") / "market.json"
    args = ["market", "discover", "--rpc", archive.url, "--block", str(FIRST - 1)]
    args += ["--out", str(out), "--min-liquidity-weth", "1", "--weth", devnet_market.weth]
    result = runner.invoke(app, [*args, *_factories(devnet_market)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    return out


def test_the_discovered_market_is_the_devnets(
    discovered: Path, devnet_market: DeployedMarket
) -> None:
    found = DeployedMarket.load(discovered)
    assert found.block == FIRST - 1
    assert set(found.v2_pairs.values()) == set(devnet_market.v2_pairs.values())
    assert set(found.v3_pools.values()) == set(devnet_market.v3_pools.values())
    assert found.tokens == devnet_market.tokens  # the same symbols for the same addresses
    assert found.decimals == {"WETH": 18} | {s: DECIMALS[s] for s in devnet_market.tokens}
    assert found.v3_factory == devnet_market.v3_factory


def test_a_fork_replay_on_the_discovered_market_equals_the_genesis_replay(
    ingested: Path, discovered: Path, archive: Anvil, genesis_results: list[BlockResult]
) -> None:
    replay = Replay(
        ingested, create("cyclic_arb"), fork=ForkSource(url=archive.url), market=discovered
    )
    results = replay.run(FIRST, LAST)
    assert shown(results) == shown(genesis_results)
    assert len(shown(results)) >= 3


def test_the_liquidity_floor_drops_thin_pools(
    archive: Anvil, devnet_market: DeployedMarket
) -> None:
    factories = {**devnet_market.v2_factories, "uniswap_v3": devnet_market.v3_factory or ""}
    with RpcClient(archive.url) as rpc:
        kwargs = dict(chain_id=31337, block=FIRST - 1, weth=devnet_market.weth, factories=factories)
        everything = discover_market(rpc, min_liquidity_wei=0, **kwargs)
        none = discover_market(rpc, min_liquidity_wei=10**30, **kwargs)
    assert len(everything.v2_pairs) + len(everything.v3_pools) >= len(devnet_market.v2_pairs)
    assert not none.v2_pairs and not none.v3_pools and not none.tokens


def test_bad_input_names_the_fix(
    archive: Anvil, devnet_market: DeployedMarket, tmp_path: Path
) -> None:
    out = tmp_path / "market.json"
    base = ["market", "discover", "--rpc", archive.url, "--out", str(out)]
    for amount in ("lots", "-1", "nan"):
        bad = runner.invoke(app, [*base, "--block", "10", "--min-liquidity-weth", amount])
        assert bad.exit_code == 2 and "decimal amount >= 0" in bad.output
    late = runner.invoke(app, [*base, "--block", "99999999"])
    assert late.exit_code == 2 and "after the node's head" in late.output
    unknown = runner.invoke(app, [*base, "--block", "10"])
    assert unknown.exit_code == 2 and "--v2-factory NAME=ADDRESS" in unknown.output
    nowhere = "0x000000000000000000000000000000000000dEaD"
    no_code = runner.invoke(
        app, [*base, "--block", "10", "--weth", devnet_market.weth, f"--v2-factory=x={nowhere}"]
    )
    assert no_code.exit_code == 2 and "has no code at block 10" in no_code.output
    assert not out.exists()
    with RpcClient(archive.url) as rpc, pytest.raises(MarketError, match="no code"):
        discover_market(
            rpc,
            chain_id=31337,
            block=1,
            weth=nowhere,
            factories={"x": nowhere},
            min_liquidity_wei=0,
        )


def _abi_string(text: str) -> str:
    data = text.encode()
    head = (32).to_bytes(32, "big") + len(data).to_bytes(32, "big")
    return "0x" + (head + data.ljust(32 * ((len(data) + 31) // 32), b"\0")).hex()


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        (_abi_string("USDC"), "USDC"),
        ("0x" + b"MKR".hex().ljust(64, "0"), "MKR"),  # bytes32, as MKR answers
        (_abi_string("<b>\u202e$x</b>"), "bxb"),  # markup and a right-to-left override
        (_abi_string("A" * 100), "A" * 16),
        (None, "c0ffee"),
    ],
)
def test_symbols_are_short_and_printable(answer: str | None, name: str) -> None:
    assert decode_symbol(answer, "0xc0ffee0000000000000000000000000000000000") == name
