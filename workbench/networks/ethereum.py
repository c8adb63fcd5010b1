"""Ethereum mainnet (chain 1)."""

from __future__ import annotations

from types import MappingProxyType

from workbench.networks.network import FeeMarket, Network, RelayEndpoint, register

MAINNET = register(
    Network(
        name="ethereum",
        chain_id=1,
        wrapper="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        wrapper_balance_slot=3,
        fee_market=FeeMarket(elasticity=2, denominator=8),
        block_time=12.0,
        factories=MappingProxyType(
            {
                "uniswap_v2": "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f",
                "sushiswap": "0xC0AEe478e3658e2610c5F7A4A2E1777cE9e4f2Ac",
                "uniswap_v3": "0x1F98431c8aD98523631AE4a59f267346ea31F984",
            }
        ),
        relays=(
            RelayEndpoint("flashbots", "https://relay.flashbots.net"),
            RelayEndpoint("titan", "https://rpc.titanbuilder.xyz"),
            RelayEndpoint("beaverbuild", "https://rpc.beaverbuild.org"),
            RelayEndpoint("bloxroute", "https://api.blxrbdn.com", "bloxroute"),
        ),
    )
)
