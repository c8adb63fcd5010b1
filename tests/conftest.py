"""Shared fixtures: every Anvil a test starts is stopped by its context manager."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.chain.anvil import Anvil
from workbench.chain.deploy import deploy_market
from workbench.chain.market_spec import (
    DeployedMarket,
    MarketSpec,
    TokenSpec,
    V2DexSpec,
    V2PairSpec,
    V3PoolSpec,
    V3PositionSpec,
)
from workbench.chain.tools import project_root

E18 = 10**18

# Two V2 DEXes (Uniswap's bytecode at 0.30%, a fork at 0.25%) and a V3 pool disagree on the
# price of TKA in WETH (2000, 2100 and ~2050 TKA per WETH): cycles through them are profitable.
ARB_SPEC = MarketSpec(
    tokens=(
        TokenSpec(symbol="TKA", decimals=18),
        TokenSpec(symbol="USDC", decimals=6),
        TokenSpec(symbol="FOT", kind="fee_on_transfer", fee_bps=100),
        TokenSpec(symbol="HONEY", kind="honeypot"),
    ),
    v2_dexes=(V2DexSpec(name="uniswap"), V2DexSpec(name="forkswap", fee_pips=2500)),
    v2_pairs=(
        V2PairSpec(
            dex="uniswap",
            token_a="WETH",
            token_b="TKA",
            reserve_a=100 * E18,
            reserve_b=200_000 * E18,
        ),
        V2PairSpec(
            dex="forkswap",
            token_a="WETH",
            token_b="TKA",
            reserve_a=100 * E18,
            reserve_b=210_000 * E18,
        ),
        V2PairSpec(
            dex="uniswap",
            token_a="WETH",
            token_b="USDC",
            reserve_a=50 * E18,
            reserve_b=100_000 * 10**6,
        ),
        V2PairSpec(
            dex="uniswap", token_a="WETH", token_b="FOT", reserve_a=10 * E18, reserve_b=10_000 * E18
        ),
        V2PairSpec(
            dex="uniswap",
            token_a="WETH",
            token_b="HONEY",
            reserve_a=10 * E18,
            reserve_b=10_000 * E18,
        ),
    ),
    v3_pools=(
        V3PoolSpec(
            token_a="WETH",
            token_b="TKA",
            fee=3000,
            price_b_per_a=(2050, 1),
            positions=(
                V3PositionSpec(
                    tick_lower=-887220, tick_upper=887220, amount_a=50 * E18, amount_b=102_500 * E18
                ),
                V3PositionSpec(
                    tick_lower=75000, tick_upper=77040, amount_a=20 * E18, amount_b=41_000 * E18
                ),
            ),
        ),
    ),
    executor_funding={"WETH": 20 * E18},
)


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@pytest.fixture(scope="module")
def market_node() -> Iterator[tuple[Anvil, DeployedMarket]]:
    """An Anvil with ARB_SPEC deployed; tests revert to a snapshot to stay independent."""
    with Anvil() as node:
        yield node, deploy_market(node.rpc, ARB_SPEC)


@pytest.fixture
def market(market_node: tuple[Anvil, DeployedMarket]) -> Iterator[tuple[Anvil, DeployedMarket]]:
    node, deployed = market_node
    snap = node.snapshot()
    try:
        yield node, deployed
    finally:
        node.revert(snap)


MAINNET_SAMPLE = "mainnet-17173049"


def mainnet_sample() -> Path:
    """The real mainnet sample (../shared/data/mainnet-17173049, or under
    WORKBENCH_SHARED_DATA); the calling test skips, saying so, when it is absent."""
    env = os.environ.get("WORKBENCH_SHARED_DATA")
    path = (Path(env) if env else project_root().parent / "shared" / "data") / MAINNET_SAMPLE
    if not (path / "blocks.jsonl").is_file():
        pytest.skip(
            f"real-data test: {path} not found; put the shared data at ../shared/data/{MAINNET_SAMPLE} "
            "or set WORKBENCH_SHARED_DATA to the directory holding it"
        )
    return path
