"""Networks by chain id: each chain module registers one, and an unknown id is a clear error."""

from __future__ import annotations

import pytest

from workbench.chain.eip1559 import next_base_fee
from workbench.errors import ConfigError
from workbench.networks import DEVNET, MAINNET, SEPOLIA, Network, by_chain_id, networks, register


def test_known_networks_by_chain_id() -> None:
    assert by_chain_id(1) is MAINNET and by_chain_id(11155111) is SEPOLIA
    assert by_chain_id(31337) is DEVNET and DEVNET.wrapper is None  # per deployment
    assert [n.chain_id for n in networks()] == sorted(n.chain_id for n in networks())
    assert MAINNET.wrapper_balance_slot == 3 and MAINNET.factories["uniswap_v3"]


def test_an_unknown_chain_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"chain id 999 is not a network.*ethereum \(1\)"):
        by_chain_id(999)


def test_a_chain_id_holds_one_network() -> None:
    with pytest.raises(ConfigError, match="already ethereum"):
        register(Network(name="not-mainnet", chain_id=1))
    assert register(MAINNET) is MAINNET  # registering the same network again is harmless


def test_the_fee_market_is_the_network_s() -> None:
    fast = Network(name="x", chain_id=0).fee_market.__class__(elasticity=6, denominator=250)
    assert next_base_fee(1000, 6_000, 6_000, MAINNET.fee_market) == 1000 + 1000 // 8
    assert next_base_fee(10**9, 6_000, 6_000, fast) == 10**9 + 10**9 * 5 // 250
