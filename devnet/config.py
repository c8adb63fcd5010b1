"""The devnet's parameters: chain, block production and agents. Frozen, JSON-serialisable.

Everything that shapes the history is here (or derived from ``seed``), so that a config and a
seed give the same chain, block hash for block hash, on any machine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.errors import ConfigError, WorkbenchError

GWEI = 10**9
DEFAULT_SEED = 1
DEFAULT_BLOCKS = 300


class DevnetError(WorkbenchError, RuntimeError):
    """Generating or rebuilding a devnet history failed; says which block and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NoiseParams:
    """Uninformed traders: random routes, Pareto(alpha=2) sizes, elastic to the base fee."""

    count: int = 10
    active: float = 0.7  # chance a trader sends a transaction in a slot
    second: float = 0.3  # chance of a second one in the same slot
    size_usd_min: int = 1500  # Pareto scale: the median size is sqrt(2) times this
    size_usd_cap: int = 300_000
    venues: tuple[tuple[str, int], ...] = (("uniswap", 45), ("v3", 40), ("forkswap", 15))
    tips_mwei: tuple[int, ...] = (1500, 2000, 2000, 2500, 3000, 5000)  # priority fees
    slippage_bps: tuple[int, ...] = (10, 30, 50, 50, 100, 300)
    max_base_fee_gwei: tuple[int, int] = (3, 30)  # each arrival's reservation base fee range


@dataclass(frozen=True, slots=True, kw_only=True)
class InformedParams:
    """Traders who know the reference price and push a pool toward it."""

    count: int = 3
    active: float = 0.5
    min_edge_bps: int = 8  # deviation beyond the pool fee before trading
    fraction_pct: tuple[int, int] = (35, 90)  # share of the way to the reference price
    size_usd_cap: int = 400_000
    tips_mwei: tuple[int, ...] = (2000, 3000, 4000, 6000)
    slippage_bps: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class BotParams:
    """An arbitrage bot: when it looks (ms into the slot), its priority fee and coinbase bid."""

    name: str
    decide_at_ms: int
    tip_mwei: int
    bid_bps: int
    weth_funding: int = 300 * 10**18
    max_input: int = 150 * 10**18


DEFAULT_BOTS = (
    BotParams(name="bot-a", decide_at_ms=10_000, tip_mwei=1200, bid_bps=5000),
    BotParams(name="bot-b", decide_at_ms=10_900, tip_mwei=1000, bid_bps=3000),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DevnetConfig:
    """How to generate a devnet history; ``seed`` drives every random draw and key."""

    seed: int = DEFAULT_SEED
    blocks: int = DEFAULT_BLOCKS
    chain_id: int = 31337
    genesis_timestamp: int = 1_735_689_600  # 2025-01-01T00:00:00Z
    block_time: int = 12
    block_gas_limit: int = 2_000_000
    initial_base_fee: int = 8 * GWEI
    hardfork: str = "prague"
    build_cutoff_ms: int = 300  # transactions seen later than this before the slot end wait
    noise: NoiseParams = field(default_factory=NoiseParams)
    informed: InformedParams = field(default_factory=InformedParams)
    bots: tuple[BotParams, ...] = DEFAULT_BOTS

    def __post_init__(self) -> None:
        if self.blocks < 1:
            raise ConfigError(f"blocks must be at least 1, got {self.blocks}")
        if self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed}")
        if not 0 < self.build_cutoff_ms < self.block_time * 1000:
            raise ConfigError("build_cutoff_ms must lie within one slot")
        if len(self.bots) > 2 or len({b.name for b in self.bots}) != len(self.bots):
            raise ConfigError("the devnet runs at most two arbitrage bots, with distinct names")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
