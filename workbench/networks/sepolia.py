"""Sepolia, Ethereum's test network (chain 11155111)."""

from __future__ import annotations

from types import MappingProxyType

from workbench.networks.network import FeeMarket, Network, RelayEndpoint, register

SEPOLIA = register(
    Network(
        name="sepolia",
        chain_id=11155111,
        wrapper="0xfFf9976782d46CC05630D1f6eBAb18b2324d6B14",
        wrapper_balance_slot=3,
        fee_market=FeeMarket(elasticity=2, denominator=8),
        block_time=12.0,
        factories=MappingProxyType(
            {
                "uniswap_v2": "0xF62c03E08ada871A0bEb309762E260a7a6a880E6",
                "uniswap_v3": "0x0227628f3F023bb0B980b67D528571c95c6DaC1c",
            }
        ),
        relays=(RelayEndpoint("flashbots-sepolia", "https://relay-sepolia.flashbots.net"),),
    )
)
