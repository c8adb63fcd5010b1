"""The live runner's risk state on disk, so that a restart, even after ``kill -9``, forgets
neither the day's losses nor a bundle in flight.

One JSON file per (chain id, account) beside the nonce state, rewritten atomically (a temporary
file renamed over it) after every block and every bundle sent. It holds the risk manager's
reservations, losses by UTC day, run of failures and breaker (``RiskManager.export_state``),
and each bundle in flight: its target block, replacement UUID and our signed transaction. At
start the runner takes it over and reconciles it with the chain (``LiveEngine``): a bundle
whose block passed is settled from its receipt, one for a block to come is put back in flight
(a new bundle for that block replaces it: same nonce and UUID, never both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from live.relays import BundleRequest
from live.submit import Sent
from workbench.errors import ConfigError
from workbench.execution.bundle import SignedTx
from workbench.files import write_atomically
from workbench.types import address

VERSION = 1


@dataclass(frozen=True, slots=True)
class RiskState:
    risk: Mapping[str, Any]  # RiskManager.export_state()
    in_flight: Mapping[int, Sent]  # target block -> our bundle


def risk_state_path(state_dir: str | Path, chain_id: int, account: str) -> Path:
    return Path(state_dir) / f"risk-{chain_id}-{address(account).lower()}.json"


def encode(state: RiskState) -> bytes:
    """The file's bytes (taken on the runner's loop, written off it)."""
    bundles = [
        {
            "key": s.key,
            "target_block": s.target_block,
            "expected_net": str(s.expected_net),
            "tx": {
                "raw": s.tx.raw,
                "hash": s.tx.hash,
                "sender": s.tx.sender,
                "nonce": s.tx.nonce,
                "gas_limit": s.tx.gas_limit,
            },
            "txs": list(s.bundle.txs),
            "replacement_uuid": s.bundle.replacement_uuid,
        }
        for s in state.in_flight.values()
    ]
    return orjson.dumps(
        {"version": VERSION, "risk": state.risk, "bundles": bundles}, option=orjson.OPT_INDENT_2
    )


def save(path: Path, data: bytes) -> None:
    write_atomically(path, data.decode())


def load(path: Path) -> RiskState | None:
    """The state an earlier run left, None if there is none; ``ConfigError`` naming the fix
    when the file is not one."""
    try:
        data: Any = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise _bad(path, f"unreadable ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise _bad(path, f"not a version-{VERSION} risk state")
    try:
        in_flight = {}
        for b in data["bundles"]:
            tx = SignedTx(**b["tx"])
            bundle = BundleRequest(
                txs=tuple(b["txs"]),
                block=int(b["target_block"]),
                replacement_uuid=b["replacement_uuid"],
            )
            in_flight[bundle.block] = Sent(
                str(b["key"]), bundle.block, int(b["expected_net"]), tx, bundle, (), 0
            )
        return RiskState(dict(data["risk"]), in_flight)
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"malformed ({type(exc).__name__}: {exc})") from None


def _bad(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"risk state {path}: {why}. It holds today's losses and the bundles in flight: restore "
        "it from a backup, or move it aside to start with none (check the relays and the "
        "account's last transactions first)"
    )
