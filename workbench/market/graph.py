"""Token graph and arbitrage cycles: every 2- and 3-hop loop through a base token.

A hop is one swap through one pool (``token_in`` -> ``token_out``); a pool of n tokens
(Curve, Balancer) gives a hop per ordered pair. The hops are indexed by the token they sell
and by the token they sell back into the base, so the search costs about as much as the
cycles it finds rather than pools cubed. Addresses are compared (and kept) lowercase.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from workbench.errors import ConfigError, MarketError
from workbench.market.pool import Pool

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
"""Mainnet WETH9, the default base token."""


@dataclass(frozen=True, slots=True, eq=False)
class Hop:
    """Sell ``token_in`` for ``token_out`` in ``pool``.

    Hops compare and hash by route (pool address and tokens), not by the pool's state, so a
    cycle keeps its identity from block to block while its pools are re-bound to new states.
    """

    pool: Pool
    token_in: str
    token_out: str
    address: str = field(init=False)
    """The pool's address, lowercase."""

    def __post_init__(self) -> None:
        token_in, token_out = self.token_in.lower(), self.token_out.lower()
        tokens = {t.lower() for t in self.pool.tokens}
        if token_in == token_out or token_in not in tokens or token_out not in tokens:
            raise MarketError(
                f"a hop needs two different tokens of pool {self.pool.address} "
                f"{self.pool.tokens}, got {self.token_in} -> {self.token_out}"
            )
        object.__setattr__(self, "token_in", token_in)
        object.__setattr__(self, "token_out", token_out)
        object.__setattr__(self, "address", self.pool.address.lower())

    @classmethod
    def _of(cls, pool: Pool, address: str, token_in: str, token_out: str) -> Hop:
        """A hop from values ``__post_init__`` would accept as they are (lowercase, two
        different tokens of ``pool``): ``find_cycles`` makes one per pool and direction."""
        hop = object.__new__(cls)
        for name, value in (
            ("pool", pool),
            ("token_in", token_in),
            ("token_out", token_out),
            ("address", address),
        ):
            object.__setattr__(hop, name, value)
        return hop

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hop):
            return NotImplemented
        return (self.address, self.token_in, self.token_out) == (
            other.address,
            other.token_in,
            other.token_out,
        )

    def __hash__(self) -> int:
        return hash((self.address, self.token_in, self.token_out))


@dataclass(frozen=True, slots=True)
class Cycle:
    """A closed route: each hop sells what the previous one bought, the last buys the base."""

    hops: tuple[Hop, ...]

    def __post_init__(self) -> None:
        hops = self.hops
        if len(hops) < 2:
            raise MarketError(f"a cycle needs at least two hops, got {len(hops)}")
        for i, hop in enumerate(hops):
            if hop.token_out != hops[i + 1 - len(hops)].token_in:
                raise MarketError(
                    f"hop {i} buys {hop.token_out} but the next hop sells another token"
                )

    @classmethod
    def _linked(cls, hops: tuple[Hop, ...]) -> Cycle:
        """A cycle of hops already known to link up (``find_cycles`` builds them so): the
        check of ``__post_init__`` would be most of the search's time."""
        cycle = object.__new__(cls)
        object.__setattr__(cycle, "hops", hops)
        return cycle

    @property
    def base(self) -> str:
        """The token the cycle starts and ends with (lowercase)."""
        return self.hops[0].token_in

    @property
    def pools(self) -> tuple[Pool, ...]:
        return tuple(hop.pool for hop in self.hops)

    @property
    def id(self) -> str:
        """Stable across blocks and runs: base, then each hop's pool and the token it buys."""
        parts = [self.base]
        for hop in self.hops:
            parts += (hop.address, hop.token_out)
        return "-".join(parts)

    def with_pools(self, states: Mapping[str, Pool]) -> Cycle:
        """The same route through newer pool states (``states`` keyed by lowercase address;
        pools missing from it keep their current state)."""
        return Cycle(
            hops=tuple(
                replace(hop, pool=states[hop.address]) if hop.address in states else hop
                for hop in self.hops
            )
        )


def find_cycles(pools: Iterable[Pool], base: str = WETH, max_hops: int = 3) -> list[Cycle]:
    """Every cycle of 2 (and, with ``max_hops=3``, 3) hops from ``base`` back to it.

    Both directions of a loop are returned (they are different trades); each route once.
    Successive hops never share a pool (that is a round trip or a detour inside one pool);
    the first and last hop may, when a multi-token pool holds both ends. A pool address given
    twice counts once, with its last state.
    """
    if max_hops not in (2, 3):
        raise ConfigError(
            f"find_cycles searches 2- or 3-hop cycles: max_hops must be 2 or 3, got {max_hops}"
        )
    base = base.lower()
    selling: defaultdict[str, list[Hop]] = defaultdict(list)  # token -> hops that sell it
    to_base: defaultdict[str, list[Hop]] = defaultdict(list)  # token -> hops selling it for base
    for address, pool in {p.address.lower(): p for p in pools}.items():
        tokens = list(dict.fromkeys(t.lower() for t in pool.tokens))
        for t_in in tokens:
            for t_out in tokens:
                if t_in != t_out:
                    hop = Hop._of(pool, address, t_in, t_out)
                    selling[t_in].append(hop)
                    if t_out == base:
                        to_base[t_in].append(hop)

    linked = Cycle._linked  # each hop sells what the one before it bought, by construction
    cycles: list[Cycle] = []
    for first in selling.get(base, ()):
        a = first.token_out
        cycles += [
            linked((first, last)) for last in to_base.get(a, ()) if last.address != first.address
        ]
        if max_hops < 3:
            continue
        for middle in selling.get(a, ()):
            b = middle.token_out
            if b == base or middle.address == first.address:
                continue
            cycles += [
                linked((first, middle, last))
                for last in to_base.get(b, ())
                if last.address != middle.address
            ]
    return cycles


@dataclass(frozen=True, slots=True)
class CycleIndex:
    """Cycles by the (lowercase) address of each pool they trade through, so that a block
    re-evaluates only the cycles whose pools it changed."""

    by_pool: Mapping[str, tuple[Cycle, ...]]

    @classmethod
    def of(cls, cycles: Iterable[Cycle]) -> CycleIndex:
        lists: defaultdict[str, list[Cycle]] = defaultdict(list)
        for cycle in cycles:
            addresses = [hop.address for hop in cycle.hops]
            if len(set(addresses)) < len(addresses):  # a multi-token pool met twice
                addresses = list(dict.fromkeys(addresses))
            for address in addresses:
                lists[address].append(cycle)
        return cls(by_pool={address: tuple(c) for address, c in lists.items()})

    def touching(self, addresses: Iterable[str]) -> list[Cycle]:
        """The cycles through any of ``addresses``, each once, in index order."""
        seen: dict[Cycle, None] = {}
        for address in addresses:
            seen.update(dict.fromkeys(self.by_pool.get(address.lower(), ())))
        return list(seen)
