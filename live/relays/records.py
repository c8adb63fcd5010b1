"""Records of relay answers for the caller to store: a submission, a bundle simulation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from live.relays.errors import RelayRejected, RelayUnavailable

__all__ = ["CallBundleResult", "SimulatedTx", "Status", "Submission"]

Status = Literal["accepted", "rejected", "failed", "duplicate"]
"""accepted: the relay returned a result; rejected: it answered with an error; failed: no
answer after every retry; duplicate: not sent, this relay already has it for this block."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """What happened to one bundle (or cancellation) at one relay."""

    relay: str
    url: str
    method: str
    target_block: int
    bundle_hash: str | None  # ours (see BundleRequest.hash); None for a cancellation
    replacement_uuid: str | None
    status: Status
    attempts: int  # HTTP requests made; 0 when not sent
    latency_ms: float  # first request to final answer, retries and backoff included
    sent_at: float  # unix time of the first request (of the decision, if not sent)
    relay_bundle_hash: str | None = None  # the bundle hash the relay returned, if any
    error: str | None = None
    error_code: int | None = None  # the JSON-RPC error code of a rejection

    @property
    def ok(self) -> bool:
        return self.status == "accepted"

    def raise_for_status(self) -> Submission:
        """Itself if accepted or a duplicate; ``RelayRejected`` / ``RelayUnavailable`` otherwise."""
        if self.status == "rejected":
            raise RelayRejected(self.relay, self.method, self.error or "", self.error_code)
        if self.status == "failed":
            raise RelayUnavailable(self.relay, self.method, self.error or "", [])
        return self


@dataclass(frozen=True, slots=True)
class SimulatedTx:
    """One transaction of an ``eth_callBundle`` answer (amounts in wei)."""

    tx_hash: str
    gas_used: int
    coinbase_diff: int
    error: str | None  # the EVM error or revert reason, None when it succeeded


@dataclass(frozen=True, slots=True, kw_only=True)
class CallBundleResult:
    """A relay's ``eth_callBundle`` simulation (amounts in wei)."""

    bundle_hash: str
    state_block: int
    coinbase_diff: int
    eth_sent_to_coinbase: int
    gas_fees: int
    total_gas_used: int
    results: tuple[SimulatedTx, ...]

    @property
    def reverted(self) -> bool:
        return any(r.error is not None for r in self.results)
