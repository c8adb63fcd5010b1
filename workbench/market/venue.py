"""Venues: one folder per AMM family behind one protocol, found by kind or by state type.

A venue owns its frozen state class(es) and says how to parse and dump them (STATE.json),
which logs move them (topic0 -> ``EventLayout``, and ``apply``), how to read one from a node
(a ``PoolReader``), how Executor.sol trades a hop through it (an ``ExecutorHop``, or None when
it cannot), and which ``ArbConfig`` field prices that hop. Each venue folder's ``__init__``
calls ``register``; ``workbench.market`` imports the built-in ones, so adding a venue is one
folder and one import line. The dispatchers (``state_json``, ``market_state``, ``events``,
``fetch``, arbitrage screening, Executor calldata) find venues only through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from workbench.errors import MarketError
from workbench.market.events import DECODERS, EventLayout, PoolEvent
from workbench.market.fetch import READERS, PoolReader
from workbench.market.pool import PoolState

S = TypeVar("S", bound=PoolState)
S_contra = TypeVar("S_contra", bound=PoolState, contravariant=True)

Step = tuple[int, str, str, str, int, str, int, int]
"""Executor.sol's Step struct: (kind, pool, token_in, token_out, fee, factory, price_limit,
min_out)."""


class ExecutorHop(Protocol[S_contra]):
    """How Executor.sol trades one hop through a venue's pool."""

    def step(
        self,
        pool: S_contra,
        token_in: str,
        token_out: str,
        min_out: int,
        factories: Mapping[str, str],
    ) -> Step:
        """The hop's Step; ``factories`` maps a pool (lowercase) to its factory, for venues
        whose Executor callback checks the caller against it (V3)."""
        ...


class Venue(Protocol[S]):
    """What the market layer knows about one venue; the defaults say "not supported"."""

    kind: str
    """The STATE.json kind ("uniswap_v2")."""
    states: tuple[type[S], ...]
    """The frozen state classes it owns: ``venue_of`` finds the venue by them."""
    gas_field: str
    """The ``ArbConfig`` field that prices one hop through it ("gas_per_v2_hop")."""
    events: Mapping[str, EventLayout] = MappingProxyType({})
    """topic0 -> layout of the logs that move its pools (decoded by ``events.decode_log``)."""
    reader: PoolReader | None = None
    """How ``fetch.fetch_pool_state`` reads one of its pools from a node."""
    hop: ExecutorHop[S] | None = None
    """How Executor.sol trades it; None when it cannot."""

    def from_json(self, obj: Mapping[str, Any]) -> S:
        """The state a STATE.json object of this kind describes."""
        ...

    def to_json(self, pool: S) -> dict[str, Any]:
        """The STATE.json fields of a state (``state_json`` adds the kind before them)."""
        ...

    def apply(self, state: S, event: PoolEvent) -> S | None:
        """The pool's state after ``event`` (the same object when it changes nothing), or
        None when pools of this venue do not emit such events."""
        return None

    def discover(self, event: PoolEvent, *, fee: int) -> S | None:
        """The state of a pool not registered yet, from one of its events alone, when the
        event tells all of it (a V2 ``Sync``; ``fee`` is the one to assume); else None."""
        return None


_BY_KIND: dict[str, Venue[Any]] = {}
_BY_TYPE: dict[type, Venue[Any]] = {}
_BY_EVENT: dict[type, Venue[Any]] = {}


def register(new: Venue[Any]) -> Venue[Any]:
    """Makes ``new`` known by its kind, its state types, its events and its reader; refuses
    one that would take any of them from another venue (registering it again is a no-op)."""
    if _BY_KIND.get(new.kind) is new:
        return new
    claims: list[tuple[str, object]] = [(f"kind {new.kind!r}", _BY_KIND.get(new.kind))]
    claims += [(f"state {t.__name__}", _BY_TYPE.get(t)) for t in new.states]
    claims += [(f"event topic {t}", DECODERS.get(t)) for t in new.events]
    if new.reader:
        claims.append((f"reader kind {new.reader.kind!r}", READERS.get(new.reader.kind)))
    taken = [what for what, owner in claims if owner is not None]
    if taken:
        raise MarketError(
            f"venue {new.kind!r} cannot be registered: {', '.join(taken)} already belong to "
            "another venue (unregister it first)"
        )
    _BY_KIND[new.kind] = new
    _BY_TYPE.update((t, new) for t in new.states)
    DECODERS.update(new.events)
    _BY_EVENT.update((layout.event, new) for layout in new.events.values())
    if new.reader:
        READERS[new.reader.kind] = new.reader
    return new


def unregister(kind: str) -> None:
    """Forgets the venue of ``kind`` and everything it registered (tests register toys)."""
    old = venue(kind)
    del _BY_KIND[kind]
    for state_type in old.states:
        _BY_TYPE.pop(state_type, None)
    for topic0, layout in old.events.items():
        DECODERS.pop(topic0, None)
        _BY_EVENT.pop(layout.event, None)
    if old.reader:
        READERS.pop(old.reader.kind, None)


def venue(kind: object) -> Venue[Any]:
    """The venue of a STATE.json kind (any JSON value: one that is not a kind is refused)."""
    found = _BY_KIND.get(kind) if isinstance(kind, str) else None
    if found is None:
        raise MarketError(f"unknown pool kind {kind!r}; expected one of {sorted(_BY_KIND)}")
    return found


def venue_of(pool: object) -> Venue[Any] | None:
    """The venue that owns the state's (exact) type; None when no venue does."""
    return _BY_TYPE.get(type(pool))


def venue_of_event(event: PoolEvent) -> Venue[Any] | None:
    """The venue whose pools emit events of this (exact) type; None when none does."""
    return _BY_EVENT.get(type(event))


def venues() -> tuple[Venue[Any], ...]:
    """Every registered venue, in the order they were registered."""
    return tuple(_BY_KIND.values())
