"""Pool states advanced by logs in chain order, with every intermediate state kept.

``next_state`` is the pure transition of one pool by one event, as the pool's contract does
it; each venue says how its events move its states (e.g. a V2 ``Sync`` sets the reserves,
V3 ``Mint``/``Burn`` update two ticks and the in-range liquidity), and ``next_state`` asks
the venue of the state's type.

``MarketState`` holds the pools by address and answers "the state of pool p after log i":
states are immutable, so each pool keeps the list of (position, state) at which it changed.
Logs of unregistered pools are recorded by default (``unknown_pools="record"``): their
addresses go to ``unknown``, and a pool whose event tells its whole state gets one from it
(a V2 pair from its first ``Sync``, tokens ``pool.UNKNOWN_TOKEN`` until ``add`` registers
it). V3 logs alone cannot make a state (fee, tick spacing and older ticks are not in them),
so unknown V3 pools are only listed. ``unknown_pools="ignore"`` drops them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from workbench.errors import MarketError
from workbench.market.events import LogDecodeError, PoolEvent, Position, decode_log
from workbench.market.pool import PoolState
from workbench.market.venue import venue_of, venue_of_event

_START: Position = (-1, -1)  # before any log: where registered states begin


def next_state(state: PoolState, event: PoolEvent) -> PoolState:
    """The pool's state after ``event`` (the same object when the event changes nothing)."""
    owner = venue_of(state)
    new = owner.apply(state, event) if owner is not None else None
    if new is None:
        raise MarketError(
            f"pool {state.address} is registered as {type(state).__name__} but emitted "
            f"{type(event).__name__} (log {event.log_index} of block {event.block_number})"
        )
    return new


class _Timeline:
    """A pool's states in order, each with the position of the log that produced it."""

    __slots__ = ("positions", "states")

    def __init__(self, position: Position, state: PoolState) -> None:
        self.positions = [position]
        self.states = [state]

    def set(self, position: Position, state: PoolState) -> None:
        if self.positions[-1] == position:
            self.states[-1] = state
        else:
            self.positions.append(position)
            self.states.append(state)

    def at(self, i: int, address: str, where: str) -> PoolState:
        if i < 0:
            raise MarketError(
                f"pool {address} has no state {where}: its first state is at log "
                f"{self.positions[0][1]} of block {self.positions[0][0]}"
            )
        return self.states[i]


class MarketState:
    """Pools by address (any case), advanced by ``apply`` in chain order, with their history."""

    def __init__(
        self,
        pools: Iterable[PoolState] = (),
        *,
        unknown_pools: Literal["record", "ignore"] = "record",
        v2_fee: int = 3000,
    ) -> None:
        if unknown_pools not in ("record", "ignore"):
            raise MarketError(f"unknown_pools must be 'record' or 'ignore', got {unknown_pools!r}")
        self.record_unknown = unknown_pools == "record"
        self.v2_fee = v2_fee
        self._unknown: dict[str, str] = {}  # lower-case -> checksummed address
        self.rejected: list[LogDecodeError] = []
        """Logs with a pool event's signature but another layout, skipped (look-alikes)."""
        self.last_position: Position = _START
        self._timelines: dict[str, _Timeline] = {}
        for pool in pools:
            self.add(pool)

    def add(self, pool: PoolState) -> None:
        """Registers (or replaces) a pool's state as of the last applied log."""
        key = pool.address.lower()
        self._unknown.pop(key, None)
        line = self._timelines.get(key)
        if line is None:
            self._timelines[key] = _Timeline(self.last_position, pool)
        else:
            line.set(self.last_position, pool)

    @property
    def unknown(self) -> set[str]:
        """Addresses of unregistered pools whose logs were seen (when recording them)."""
        return set(self._unknown.values())

    @property
    def pools(self) -> dict[str, PoolState]:
        """The current state of every pool, by (lower-case) address."""
        return {key: line.states[-1] for key, line in self._timelines.items()}

    def apply(self, log: Mapping[str, Any] | PoolEvent) -> PoolEvent | None:
        """Applies one log (raw or decoded); returns its pool event, or ``None`` if it is none.

        Logs must come in chain order (block number, then log index)."""
        if isinstance(log, PoolEvent):
            event: PoolEvent | None = log
        else:
            if log.get("removed"):
                raise MarketError(
                    "a removed (reorged) log cannot be undone; rebuild the state from the fork point"
                )
            try:
                event = decode_log(log)
            except LogDecodeError as err:
                self.rejected.append(err)
                return None
        if event is None:
            return None
        if event.position <= self.last_position:
            raise MarketError(
                f"log {event.log_index} of block {event.block_number} is not after the last "
                f"applied log ({self.last_position[1]} of block {self.last_position[0]}): "
                "apply logs once each, in chain order"
            )
        key = event.address.lower()
        line = self._timelines.get(key)
        if line is not None:
            state = line.states[-1]
            new = next_state(state, event)  # raises before anything changes
            if new is not state:
                line.set(event.position, new)
        elif self.record_unknown:
            self._unknown[key] = event.address
            owner = venue_of_event(event)
            found = owner.discover(event, fee=self.v2_fee) if owner is not None else None
            if found is not None:
                self._timelines[key] = _Timeline(event.position, found)
        self.last_position = event.position
        return event

    def apply_all(self, logs: Iterable[Mapping[str, Any] | PoolEvent]) -> list[PoolEvent]:
        """Applies logs in order; returns the pool events among them."""
        return [e for log in logs if (e := self.apply(log)) is not None]

    def state(self, address: str) -> PoolState:
        """The pool's current state."""
        return self._timeline(address).states[-1]

    def state_after(
        self, address: str, block_number: int, log_index: int | None = None
    ) -> PoolState:
        """The pool's state right after log ``log_index`` of the block (default: its last log)."""
        line = self._timeline(address)
        if log_index is None:
            pos, where = (block_number, 2**63), f"after block {block_number}"
        else:
            pos, where = (block_number, log_index), f"after log {log_index} of block {block_number}"
        return line.at(bisect.bisect_right(line.positions, pos) - 1, address, where)

    def state_before(self, address: str, block_number: int, log_index: int = 0) -> PoolState:
        """The pool's state right before log ``log_index`` of the block (default: its start)."""
        line = self._timeline(address)
        i = bisect.bisect_left(line.positions, (block_number, log_index)) - 1
        return line.at(i, address, f"before log {log_index} of block {block_number}")

    def history(self, address: str) -> list[tuple[Position, PoolState]]:
        """Every state the pool had, with the position of the log that set it."""
        line = self._timeline(address)
        return list(zip(line.positions, line.states, strict=True))

    def forget_before(self, block_number: int) -> None:
        """Drops history that queries about ``block_number`` and later never need."""
        for line in self._timelines.values():
            keep = max(bisect.bisect_left(line.positions, (block_number, -1)) - 1, 0)
            del line.positions[:keep]
            del line.states[:keep]

    def _timeline(self, address: str) -> _Timeline:
        line = self._timelines.get(address.lower())
        if line is None:
            raise MarketError(
                f"pool {address} is not tracked; register it with MarketState.add"
                + (
                    " (its logs were seen: it is in .unknown)"
                    if address.lower() in self._unknown
                    else ""
                )
            )
        return line

    def __contains__(self, address: str) -> bool:
        return address.lower() in self._timelines
