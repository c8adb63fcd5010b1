"""Devnet history: a deterministic, rebuildable chain of DEX activity on a local Anvil.

``generate(dir, DevnetConfig(seed=..., blocks=...))`` deploys the default market (real
Uniswap V2/V3 bytecode, a V2 fork, seven tokens), runs noise traders, informed traders and
arbitrage bots through a simulated mempool, and writes a dataset plus its genesis state;
``rebuild(dir)`` replays it from the genesis and checks every block hash.
"""

from __future__ import annotations

from devnet.config import (
    DEFAULT_BLOCKS,
    DEFAULT_SEED,
    BotParams,
    DevnetConfig,
    DevnetError,
    InformedParams,
    NoiseParams,
)
from devnet.default import default_dataset_path, ensure_default_dataset
from devnet.generator import generate
from devnet.rebuild import Rebuilt, load_info, rebuild

__all__ = [
    "DEFAULT_BLOCKS",
    "DEFAULT_SEED",
    "BotParams",
    "DevnetConfig",
    "DevnetError",
    "InformedParams",
    "NoiseParams",
    "Rebuilt",
    "default_dataset_path",
    "ensure_default_dataset",
    "generate",
    "load_info",
    "rebuild",
]
