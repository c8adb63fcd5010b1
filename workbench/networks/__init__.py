"""Chains by chain id, one module each (see ``network.py``); importing this registers them."""

from __future__ import annotations

from workbench.networks.devnet import DEVNET
from workbench.networks.ethereum import MAINNET
from workbench.networks.network import (
    Dialect,
    FeeMarket,
    Network,
    RelayEndpoint,
    by_chain_id,
    find_network,
    networks,
    register,
)
from workbench.networks.sepolia import SEPOLIA

__all__ = [
    "DEVNET",
    "MAINNET",
    "SEPOLIA",
    "Dialect",
    "FeeMarket",
    "Network",
    "RelayEndpoint",
    "by_chain_id",
    "find_network",
    "networks",
    "register",
]
