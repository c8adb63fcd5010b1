"""Nonces for one account that are never handed out twice for live transactions, across
restarts and bundle replacements.

A bundle for target block B carries a transaction with a reserved nonce. If the bundle lands,
``confirm`` the nonce (it and every lower one are used). If it did not land in B, ``release`` the
nonce (the next bundle may use it again: a replacement, not a reuse) or ``retarget`` it to the
next block. ``sync`` with the node's transaction count keeps the manager at or above the chain;
``sync(count, through_block=B)`` also releases every reservation for blocks up to B that did
not land, given a count read at or after B. After a reorg, ``rewind`` lowers the floor to the
chain's count.

State is one JSON file per (chain id, address), rewritten atomically on every change, and an
exclusive lock file so two runners cannot share the account. A lock makes each operation
atomic across threads; operations never block on I/O other than the small state file, so
asyncio code may call them directly.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any, Literal

import orjson

from workbench.errors import ConfigError
from workbench.files import write_atomically
from workbench.rpc import RpcClient
from workbench.types import Address, address

__all__ = ["NonceManager", "chain_nonce"]

_VERSION = 1


def chain_nonce(rpc: RpcClient, account: str, tag: Literal["pending", "latest"] = "pending") -> int:
    """The node's transaction count for ``account`` (``pending`` also counts its mempool txs)."""
    return int(rpc.call("eth_getTransactionCount", [address(account), tag]), 16)


class NonceManager:
    """Hands out nonces for one (chain id, account); see the module docstring for the protocol."""

    def __init__(self, state_dir: str | Path, chain_id: int, account: str) -> None:
        if chain_id <= 0:
            raise ConfigError(f"chain id must be positive, got {chain_id}")
        self.chain_id = chain_id
        self.address: Address = address(account)
        self.path = Path(state_dir) / f"nonces-{chain_id}-{self.address.lower()}.json"
        self._lock = threading.Lock()
        self._lockfile = _acquire(self.path.with_suffix(".lock"))
        try:
            self._floor, self._reserved = self._load()
        except BaseException:
            os.close(self._lockfile)
            raise

    @property
    def floor(self) -> int:
        """Every nonce below this one is used on chain (confirmed or synced)."""
        return self._floor

    @property
    def reserved(self) -> dict[int, int]:
        """Nonces held by transactions in flight, each with its bundle's target block."""
        with self._lock:
            return dict(self._reserved)

    def peek(self) -> int:
        """The nonce ``reserve`` would hand out now."""
        with self._lock:
            return self._lowest_free()

    def reserve(self, block: int) -> int:
        """The lowest nonce at or above the floor that no transaction in flight holds."""
        with self._lock:
            nonce = self._lowest_free()
            self._commit(self._floor, {**self._reserved, nonce: block})
            return nonce

    def retarget(self, nonce: int, block: int) -> None:
        """Keeps a reserved nonce for a replacement bundle aimed at another block."""
        with self._lock:
            if nonce not in self._reserved:
                raise ConfigError(
                    f"nonce {nonce} of {self.address} is not reserved (floor {self._floor}); "
                    "reserve a new one"
                )
            self._commit(self._floor, {**self._reserved, nonce: block})

    def release(self, nonce: int) -> bool:
        """Frees a nonce whose bundle did not land; False if it was not reserved."""
        with self._lock:
            if nonce not in self._reserved:
                return False
            self._commit(self._floor, {n: b for n, b in self._reserved.items() if n != nonce})
            return True

    def confirm(self, nonce: int) -> None:
        """A transaction with ``nonce`` landed: it and every lower nonce are used."""
        with self._lock:
            self._advance(nonce + 1)

    def sync(self, chain_count: int, *, through_block: int | None = None) -> None:
        """Raises the floor to the node's transaction count (never lowers it).

        With ``through_block``, reservations for blocks up to it that are still at or above
        the floor did not land and are released; ``chain_count`` must be read at or after it.
        """
        if chain_count < 0:
            raise ConfigError(f"a transaction count cannot be negative, got {chain_count}")
        with self._lock:
            self._advance(chain_count, through_block)

    def rewind(self, chain_count: int) -> None:
        """Sets the floor to the node's transaction count after a reorg, also when that is
        lower: a transaction of ours in an orphaned block no longer uses its nonce, and the
        next bundle must take it again or every later one waits behind a gap. Reservations at
        or above the new floor stay (their bundles are in flight)."""
        if chain_count < 0:
            raise ConfigError(f"a transaction count cannot be negative, got {chain_count}")
        with self._lock:
            kept = {n: b for n, b in self._reserved.items() if n >= chain_count}
            if chain_count != self._floor or kept != self._reserved:
                self._commit(chain_count, kept)

    def close(self) -> None:
        """Lets another manager (a restarted runner) take the account."""
        with self._lock:
            if self._lockfile >= 0:
                os.close(self._lockfile)  # closing drops the flock
                self._lockfile = -1

    def __enter__(self) -> NonceManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"NonceManager(chain_id={self.chain_id}, address={self.address}, "
            f"floor={self._floor}, reserved={sorted(self._reserved)})"
        )

    def _lowest_free(self) -> int:
        nonce = self._floor
        while nonce in self._reserved:
            nonce += 1
        return nonce

    def _advance(self, floor: int, through_block: int | None = None) -> None:
        floor = max(self._floor, floor)
        kept = {
            n: b
            for n, b in self._reserved.items()
            if n >= floor and (through_block is None or b > through_block)
        }
        if floor != self._floor or kept != self._reserved:
            self._commit(floor, kept)

    def _commit(self, floor: int, reserved: dict[int, int]) -> None:
        """Writes the new state, then adopts it: a failed write leaves memory as on disk."""
        if self._lockfile < 0:
            raise ConfigError(f"{self!r} is closed; open a new NonceManager")
        state = {
            "version": _VERSION,
            "chain_id": self.chain_id,
            "address": self.address,
            "floor": floor,
            "reserved": {str(n): b for n, b in sorted(reserved.items())},
        }
        write_atomically(self.path, orjson.dumps(state, option=orjson.OPT_INDENT_2).decode())
        self._floor, self._reserved = floor, reserved

    def _load(self) -> tuple[int, dict[int, int]]:
        try:
            state: Any = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return 0, {}
        except (OSError, orjson.JSONDecodeError) as exc:
            raise self._bad(f"unreadable ({exc})") from None
        if not isinstance(state, dict) or state.get("version") != _VERSION:
            raise self._bad("not a version-1 nonce state")
        if state.get("chain_id") != self.chain_id or str(state.get("address")).lower() != (
            self.address.lower()
        ):
            raise self._bad(f"belongs to chain {state.get('chain_id')} / {state.get('address')}")
        try:
            floor = int(state["floor"])
            reserved = {int(n): int(b) for n, b in state["reserved"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._bad(f"malformed ({type(exc).__name__}: {exc})") from None
        if floor < 0 or any(n < floor for n in reserved):
            raise self._bad("holds reservations below its floor")
        return floor, reserved

    def _bad(self, why: str) -> ConfigError:
        return ConfigError(
            f"nonce state {self.path}: {why}; move it aside and restart, the first sync with "
            "the node restores the floor (reservations in flight are then forgotten)"
        )


def _acquire(lock_path: Path) -> int:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(
            f"another nonce manager holds {lock_path} (a second runner on the same account?); "
            "stop it first: two runners would hand out the same nonces"
        ) from None
    return fd
