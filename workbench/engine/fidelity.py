"""Replay fidelity: a replayed transaction matches its recording when status, gas used,
cumulative gas and logs (address, topics, data, in order) are identical."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fidelity:
    matched: int = 0
    mismatches: list[str] = field(default_factory=list)
    causes: dict[str, int] = field(default_factory=dict)  # mismatches by cause
    reforked: bool = False  # the replay forked the archive node afresh after this block

    @property
    def total(self) -> int:
        return self.matched + len(self.mismatches)

    @property
    def share(self) -> float:
        """Share of transactions replayed identically (a statistic, hence a float)."""
        return self.matched / self.total if self.total else 1.0


def compare(
    tx_hash: str,
    replayed: dict[str, Any] | None,
    recorded: dict[str, Any],
    logs: list[dict[str, Any]],
) -> str | None:
    """None when the replayed receipt matches the recorded one, else what differs."""
    if replayed is None:
        return f"{tx_hash}: not included in the replayed block"
    diffs = []
    status = int(replayed["status"], 16)
    if recorded.get("status") is not None and status != recorded["status"]:
        diffs.append(f"status {status} != {recorded['status']}")
    gas = int(replayed["gasUsed"], 16)
    if gas != recorded["gas_used"]:
        diffs.append(f"gas used {gas} != {recorded['gas_used']}")
    cumulative = int(replayed["cumulativeGasUsed"], 16)
    if recorded.get("cumulative_gas_used") is not None and cumulative != int(
        recorded["cumulative_gas_used"]
    ):
        diffs.append(f"cumulative gas {cumulative} != {recorded['cumulative_gas_used']}")
    got = [
        (lg["address"].lower(), [t.lower() for t in lg["topics"]], lg["data"].lower())
        for lg in replayed["logs"]
    ]
    want = [
        (lg["address"].lower(), [t.lower() for t in lg["topics"]], lg["data"].lower())
        for lg in logs
    ]
    if got != want:
        diffs.append(f"logs differ ({len(got)} replayed, {len(want)} recorded)")
    return f"{tx_hash}: " + "; ".join(diffs) if diffs else None
