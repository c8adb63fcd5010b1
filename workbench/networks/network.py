"""What the workbench knows of a chain: its id, native wrapper, fee market, block time, known
factories and where bundles or transactions are submitted. One module per chain registers one
``Network``; everything else looks a chain up by its id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from workbench.errors import ConfigError

Dialect = Literal["flashbots", "bloxroute"]


@dataclass(frozen=True, slots=True)
class FeeMarket:
    """EIP-1559 parameters: ``elasticity`` (gas limit / gas target) and ``denominator`` (the
    most a base fee moves per block is 1/denominator)."""

    elasticity: int = 2
    denominator: int = 8


@dataclass(frozen=True, slots=True)
class RelayEndpoint:
    """A public bundle relay or builder of the chain, by name (``--relay NAME``)."""

    name: str
    url: str
    dialect: Dialect = "flashbots"


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    name: str
    chain_id: int
    native: str = "ETH"
    wrapper: str | None = None
    """The wrapped native token (WETH9 and its like); None where it differs per deployment
    (a local Anvil chain: the market file says which)."""
    wrapper_balance_slot: int | None = None
    """The storage slot of the wrapper's ``balanceOf`` mapping (WETH9: 3); None: probe it."""
    fee_market: FeeMarket = field(default_factory=FeeMarket)
    block_time: float = 12.0
    hardfork: str | None = None
    """The hardfork a fork of it runs (None: what Anvil infers from the chain and block)."""
    factories: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Venue factories by name ("uniswap_v2", "sushiswap", "uniswap_v3", ...)."""
    relays: tuple[RelayEndpoint, ...] = ()


_BY_ID: dict[int, Network] = {}


def register(network: Network) -> Network:
    """Makes ``network`` known by its chain id (one network per id)."""
    known = _BY_ID.get(network.chain_id)
    if known is not None and known != network:
        raise ConfigError(f"chain id {network.chain_id} is already {known.name}")
    _BY_ID[network.chain_id] = network
    return network


def by_chain_id(chain_id: int) -> Network:
    """The network of ``chain_id``; a ``ConfigError`` naming the known ones otherwise."""
    try:
        return _BY_ID[chain_id]
    except KeyError:
        names = ", ".join(f"{n.name} ({i})" for i, n in sorted(_BY_ID.items()))
        raise ConfigError(
            f"chain id {chain_id} is not a network the workbench knows; known: {names} "
            "(add a module under workbench/networks/)"
        ) from None


def find_network(chain_id: int) -> Network | None:
    """The network of ``chain_id``, or None when it is not known."""
    return _BY_ID.get(chain_id)


def networks() -> tuple[Network, ...]:
    """Every registered network, by chain id."""
    return tuple(n for _, n in sorted(_BY_ID.items()))
