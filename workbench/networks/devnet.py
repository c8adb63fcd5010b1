"""Local Anvil chains (chain 31337): the devnet and every test chain. Contracts are deployed
per chain, so the wrapper and the factories come from the chain's market file; the wrapper
there is WETH9 (balance slot 3). Bundles go to a local relay given by URL."""

from __future__ import annotations

from workbench.networks.network import FeeMarket, Network, register

DEVNET = register(
    Network(
        name="devnet",
        chain_id=31337,
        wrapper_balance_slot=3,
        fee_market=FeeMarket(elasticity=2, denominator=8),
        block_time=12.0,
        hardfork="prague",  # the devnet's (devnet.config)
    )
)
