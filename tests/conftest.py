"""Shared fixtures: every Anvil a test starts is stopped by its context manager.

A test that needs a component which may be absent calls ``missing(component, reason)``: it
skips, saying why, except under CI (``CI=true``), where ``make setup`` installs every such
component, so its absence is a failure. The run ends with one line naming what skipped and why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

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


REQUIRED_UNDER_CI = ("anvil", "chromium", "postgresql", "shared-data")
"""Components `make setup` provides (or the CI checkout carries beside the project)."""


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(component: str, reason: str) -> NoReturn:
    """The calling test cannot run without ``component``: a skip with ``reason``, or under
    CI a failure (make setup installs it there, so a skip would hide an untested part)."""
    if component not in REQUIRED_UNDER_CI:
        raise ValueError(f"unknown component {component!r}; one of {REQUIRED_UNDER_CI}")
    if under_ci():
        pytest.fail(f"{component} is required under CI (CI=true) but missing: {reason}")
    pytest.skip(f"[{component}] {reason}")


_SKIPPED: list[tuple[str, str]] = []
E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e carries the ``e2e`` marker (so ``-m "not e2e"`` means it)."""
    unmarked = [
        i.nodeid for i in items if E2E_DIR in i.path.parents and i.get_closest_marker("e2e") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"e2e tests without the e2e marker: {', '.join(unmarked)}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        _SKIPPED.append((report.nodeid, reason.removeprefix("Skipped: ")))


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's last line: what skipped and why (after pytest's own summary)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.option.collectonly:
        return
    if not _SKIPPED:
        line = "skipped: none"
    else:
        by_reason: dict[str, list[str]] = {}
        for nodeid, reason in _SKIPPED:
            by_reason.setdefault(reason, []).append(nodeid)
        line = f"skipped {len(_SKIPPED)}: " + "; ".join(
            f"{len(ids)} x {reason} ({ids[0]}{', ...' if len(ids) > 1 else ''})"
            for reason, ids in by_reason.items()
        )
    reporter.write_line(line)


MAINNET_SAMPLE = "mainnet-17173049"


def mainnet_sample() -> Path:
    """The real mainnet sample (../shared/data/mainnet-17173049, or under
    WORKBENCH_SHARED_DATA); the calling test skips, saying so, when it is absent (fails
    under CI)."""
    env = os.environ.get("WORKBENCH_SHARED_DATA")
    path = (Path(env) if env else project_root().parent / "shared" / "data") / MAINNET_SAMPLE
    if not (path / "blocks.jsonl").is_file():
        missing(
            "shared-data",
            f"real-data test: {path} not found; put the shared data at ../shared/data/{MAINNET_SAMPLE} "
            "or set WORKBENCH_SHARED_DATA to the directory holding it",
        )
    return path
