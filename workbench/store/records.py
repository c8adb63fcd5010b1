"""What the engine hands the store: a run's identity, and one block's results at a time.

Plain frozen dataclasses, so the engine never touches ORM objects. Amounts are ints
(exact, any size); statuses may be given as their enum or its string value.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.store.columns import WEI_DIGITS
from workbench.store.errors import InvalidRecordError

if TYPE_CHECKING:
    from workbench.strategy.intents import ArbIntent


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class SimulationStatus(StrEnum):
    SUCCESS = "success"
    REVERTED = "reverted"
    ERROR = "error"


class OutcomeKind(StrEnum):
    WON = "won"
    LOST_TO_COMPETITOR = "lost_to_competitor"
    REVERTED = "reverted"
    UNPROFITABLE_AFTER_GAS = "unprofitable_after_gas"
    NOT_INCLUDED = "not_included"  # it pays the builder nothing


class LiveMode(StrEnum):
    SHADOW = "shadow"  # simulate and record, send nothing
    LIVE = "live"  # bundles go to relays


class ActionKind(StrEnum):
    """What the live runner did with an opportunity."""

    SUBMITTED = "submitted"  # sent to relays
    APPROVED = "approved"  # the risk manager said yes; shadow mode, so not sent
    REJECTED = "rejected"  # the risk manager said no (``reason`` is its code)
    SKIPPED = "skipped"  # e.g. the simulation failed, or a better bundle is in flight


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data, equal text (so equal hashes)."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidRecordError(f"not plain JSON data ({e}): {value!r}") from e


def _check_ints(record: object, *names: str) -> None:
    """Amounts and counts are ints (never float or bool) that the store can hold exactly."""
    for name in names:
        value = getattr(record, name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidRecordError(
                f"{type(record).__name__}.{name} must be an int, got {type(value).__name__}"
            )
        if len(str(value)) > WEI_DIGITS:
            raise InvalidRecordError(
                f"{type(record).__name__}.{name} = {value} is wider than any (u)int256"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSpec:
    """What makes two runs the same run: rerunning a command with an equal ``config_hash``
    resumes it. ``workers``, ``git_sha`` and ``notes`` are recorded but not hashed (results
    must not depend on them). ``config`` and ``engine`` must be plain JSON data."""

    strategy: str
    config: Mapping[str, Any]
    dataset_path: str
    dataset_chain_id: int
    first_block: int
    last_block: int
    engine: Mapping[str, Any] = field(default_factory=dict)
    workers: int = 1
    git_sha: str | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)
    identity: Mapping[str, str] = field(default_factory=dict)
    """What the run's results were computed from (the data's digest, the code's version): not
    hashed, but a resume on another identity is refused unless allowed."""

    def __post_init__(self) -> None:
        _check_ints(self, "dataset_chain_id", "first_block", "last_block", "workers")
        if not 0 <= self.first_block <= self.last_block:
            raise InvalidRecordError(
                f"block range {self.first_block}-{self.last_block} is empty or negative"
            )
        if self.workers < 1:
            raise InvalidRecordError(f"workers must be at least 1, got {self.workers}")
        canonical_json([self.config, self.engine, self.notes, self.identity])

    @property
    def config_hash(self) -> str:
        """sha256 of the canonical JSON of strategy, config, dataset, block range and engine."""
        identity = {
            "strategy": self.strategy,
            "config": self.config,
            "dataset": {"path": self.dataset_path, "chain_id": self.dataset_chain_id},
            "blocks": [self.first_block, self.last_block],
            "engine": self.engine,
        }
        return hashlib.sha256(canonical_json(identity).encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """A run as stored; ``resumed`` says whether ``start_or_resume_run`` found it existing."""

    id: int
    config_hash: str
    status: RunStatus
    strategy: str
    first_block: int
    last_block: int
    git_sha: str | None
    created_at: datetime
    finished_at: datetime | None
    resumed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockRecord:
    """One processed block: its size, replay fidelity and mempool count; ``notes`` holds
    details such as the list of receipt mismatches."""

    number: int
    tx_count: int
    txs_matched: int = 0
    txs_mismatched: int = 0
    mempool_txs: int = 0
    notes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_ints(self, "number", "tx_count", "txs_matched", "txs_mismatched", "mempool_txs")
        canonical_json(self.notes)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationRecord:
    """The EVM-exact simulation of an opportunity (``profit`` gross, in the base token)."""

    status: SimulationStatus
    gas_used: int
    profit: int
    bid_paid: int
    gas_cost: int
    screening_profit_matches: bool
    revert_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", SimulationStatus(self.status))
        _check_ints(self, "gas_used", "profit", "bid_paid", "gas_cost")


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeRecord:
    """How the opportunity scored; both PnLs are net of gas and bid, and may be negative."""

    outcome: OutcomeKind
    pnl_upper_bound: int
    pnl_with_competition: int
    competitor_tx: str | None = None
    competitor_paid: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", OutcomeKind(self.outcome))
        _check_ints(self, "pnl_upper_bound", "pnl_with_competition", "competitor_paid")


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveActionRecord:
    """What a shadow or live run did with an opportunity, and (live) what came of it.

    ``latency_ms`` runs from the event's arrival to the submission or decision;
    ``decided_at_ms`` is the wall clock (epoch ms). ``relays`` holds one plain JSON object
    per relay answer (relay, status, attempts, latency_ms, error). ``expected_pnl`` is the
    simulation's net (profit - bid - gas); ``realised_pnl`` is net of gas and bid and may
    be negative. A shadow run submits nothing."""

    mode: str
    action: ActionKind
    target_block: int
    decided_at_ms: int
    latency_ms: float | None = None
    reason: str | None = None
    detail: str | None = None
    tx_hash: str | None = None
    nonce: int | None = None
    bundle_hash: str | None = None
    relays: tuple[Mapping[str, Any], ...] = ()
    landed: bool | None = None
    realised_pnl: int | None = None
    gas_cost: int | None = None
    bid_paid: int | None = None
    expected_pnl: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in tuple(LiveMode):
            raise InvalidRecordError(f"mode must be 'shadow' or 'live', got {self.mode!r}")
        object.__setattr__(self, "mode", LiveMode(self.mode))
        object.__setattr__(self, "action", ActionKind(self.action))
        _check_ints(
            self,
            "target_block",
            "decided_at_ms",
            "nonce",
            "realised_pnl",
            "gas_cost",
            "bid_paid",
            "expected_pnl",
        )
        for name in ("target_block", "decided_at_ms", "nonce"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 2**63:
                raise InvalidRecordError(f"LiveActionRecord.{name} = {value} is out of range")
        lat = self.latency_ms
        if lat is not None and (
            not isinstance(lat, float | int) or isinstance(lat, bool) or not 0 <= lat < math.inf
        ):
            raise InvalidRecordError(f"latency_ms must be a finite duration >= 0, got {lat!r}")
        if self.mode == LiveMode.SHADOW and self.action == ActionKind.SUBMITTED:
            raise InvalidRecordError(
                "a shadow run submits nothing: record the action as 'approved' (or run live)"
            )
        if self.action == ActionKind.REJECTED and not self.reason:
            raise InvalidRecordError("a rejected action needs its reason code (e.g. capital_cap)")
        for name in ("tx_hash", "bundle_hash"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and len(value) <= 66):
                raise InvalidRecordError(f"{name} must be a 0x hash, got {value!r}")
        if not all(isinstance(r, Mapping) for r in self.relays):
            raise InvalidRecordError(f"relays must be JSON objects, got {self.relays!r}")
        plain = json.loads(canonical_json(list(self.relays)))  # checked, and plain dicts
        object.__setattr__(self, "relays", tuple(plain))


class RouteHop(NamedTuple):
    """One swap of a route: pool address, token sold, token bought (lowercase)."""

    pool: str
    token_in: str
    token_out: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OpportunityRecord:
    """An intent a strategy proposed in a block, with its simulation and outcome if any.
    ``key`` (route id, ``@`` target tx for a backrun) is unique within a block of a run.
    ``predicted_revert`` is a probability; ``reverts_next_block`` the realised check."""

    strategy: str
    key: str
    route: tuple[RouteHop, ...]
    amount_in: int
    expected_profit: int
    min_profit: int
    gas_estimate: int
    bid_bps: int = 0
    priority_fee: int = 0
    after_tx: str | None = None
    parent_fullness_bps: int | None = None
    predicted_revert: float | None = None
    reverts_next_block: bool | None = None
    simulation: SimulationRecord | None = None
    outcome: OutcomeRecord | None = None
    action: LiveActionRecord | None = None

    def __post_init__(self) -> None:
        _check_ints(
            self,
            "amount_in",
            "expected_profit",
            "min_profit",
            "gas_estimate",
            "bid_bps",
            "priority_fee",
            "parent_fullness_bps",
        )
        p = self.predicted_revert
        if p is not None and not (isinstance(p, float | int) and 0 <= p <= 1):
            raise InvalidRecordError(f"predicted_revert must be a probability, got {p!r}")

    @classmethod
    def from_intent(
        cls,
        intent: ArbIntent,
        *,
        simulation: SimulationRecord | None = None,
        outcome: OutcomeRecord | None = None,
        parent_fullness_bps: int | None = None,
        predicted_revert: float | None = None,
        reverts_next_block: bool | None = None,
        action: LiveActionRecord | None = None,
    ) -> OpportunityRecord:
        return cls(
            strategy=intent.strategy,
            key=intent.key,
            route=tuple(RouteHop(h.address, h.token_in, h.token_out) for h in intent.cycle.hops),
            amount_in=intent.amount_in,
            expected_profit=intent.expected_profit,
            min_profit=intent.min_profit,
            gas_estimate=intent.gas_estimate,
            bid_bps=intent.bid_bps,
            priority_fee=intent.priority_fee,
            after_tx=intent.after_tx,
            parent_fullness_bps=parent_fullness_bps,
            predicted_revert=predicted_revert,
            reverts_next_block=reverts_next_block,
            simulation=simulation,
            outcome=outcome,
            action=action,
        )
