"""Prometheus metrics of the live runner, in a registry of their own (never the global one).

The runner calls one method per thing that happened (``detected``, ``submitted``, ``block``...);
``exposition()`` renders the text format that ``/metrics`` serves. Every name starts with
``workbench_live_``. Prometheus values are floats: the profit gauges are exact only up to 2**53
wei (~0.009 ETH), so the exact integer totals live in the store and in ``/status`` (and in
``realised_wei`` / ``expected_wei`` here). All methods are thread-safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

__all__ = [
    "BLOCK_BUCKETS",
    "CONTENT_TYPE",
    "LATENCY_BUCKETS",
    "PREFIX",
    "SIMULATION_BUCKETS",
    "LiveMetrics",
]

PREFIX = "workbench_live_"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The content type of ``exposition()`` (the Prometheus text format 0.0.4)."""

# Event to submission: 0.5 ms to 1 s, fine-grained under 50 ms where a competitive backrun lives.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02,
    0.025, 0.03, 0.035, 0.04, 0.045, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0,
)  # fmt: skip
SIMULATION_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
)  # fmt: skip
BLOCK_BUCKETS = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 12.0,
)  # fmt: skip


class LiveMetrics:
    """The live runner's counters, gauges and histograms in ``registry`` (a new one by default).

    ``clock`` (monotonic seconds) dates each new head, for ``head_age_seconds``.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True) if registry is None else registry
        self._clock = clock
        self._lock = threading.Lock()
        self._realised = 0
        self._expected = 0
        self._head_seen: float | None = None
        r = self.registry

        self._detected = Counter(
            PREFIX + "opportunities_detected",
            "Opportunities (intents) the strategies returned, by strategy.",
            ["strategy"],
            registry=r,
        )
        self._rejected = Counter(
            PREFIX + "opportunities_rejected",
            "Intents the risk manager rejected, by reason.",
            ["reason"],
            registry=r,
        )
        self._submitted = Counter(
            PREFIX + "bundles_submitted",
            "Bundles a relay accepted, by relay.",
            ["relay"],
            registry=r,
        )
        self._relay_errors = Counter(
            PREFIX + "relay_errors",
            "Relay requests that failed or were rejected, by relay.",
            ["relay"],
            registry=r,
        )
        self._included = Counter(
            PREFIX + "bundles_included", "Bundles that landed in their target block.", registry=r
        )
        self._missed = Counter(
            PREFIX + "bundles_missed",
            "Bundles that did not land in their target block.",
            registry=r,
        )
        self._blocks = Counter(PREFIX + "blocks_processed", "Blocks processed.", registry=r)
        self._reconnects = Counter(
            PREFIX + "ws_reconnects", "WebSocket reconnections to the node.", registry=r
        )
        self._backfilled = Counter(
            PREFIX + "blocks_backfilled",
            "Blocks fetched after a gap in the head subscription.",
            registry=r,
        )
        self._skipped = Counter(
            PREFIX + "events_skipped",
            "Events skipped without stopping the runner, by what: malformed_head, "
            "malformed_pending, malformed_block, dropped_pending (the full queue's oldest), "
            "failed_pending (an unexpected error while handling one).",
            ["what"],
            registry=r,
        )
        self._reorgs = Counter(
            PREFIX + "reorgs",
            "Reorgs the runner walked back through (settlements of orphaned blocks undone).",
            registry=r,
        )
        self._orphaned = Counter(
            PREFIX + "blocks_orphaned", "Processed blocks that a reorg orphaned.", registry=r
        )
        self._outside = Counter(
            PREFIX + "landed_outside_target",
            "Transactions of ours that landed in a block no bundle of ours targeted with them.",
            registry=r,
        )
        self._head = Gauge(PREFIX + "head_block", "Number of the last block processed.", registry=r)
        self._head_age = Gauge(
            PREFIX + "head_age_seconds",
            "Seconds since the last block was processed (NaN before the first).",
            registry=r,
        )
        self._head_age.set_function(self._age_or_nan)
        self._realised_gauge = Gauge(
            PREFIX + "realised_profit_wei",
            "Net realised profit so far, in wei (float; exact in the store and /status).",
            registry=r,
        )
        self._expected_gauge = Gauge(
            PREFIX + "expected_profit_wei",
            "Net expected profit of the settled bundles so far, in wei (float).",
            registry=r,
        )
        self._at_risk = Gauge(
            PREFIX + "capital_at_risk_wei",
            "Capital reserved by the intents in flight, in wei (float).",
            registry=r,
        )
        self._latency = Histogram(
            PREFIX + "event_to_submission_seconds",
            "From a pending tx's or new head's arrival to its bundle's submission to a relay.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._simulation = Histogram(
            PREFIX + "simulation_seconds",
            "Duration of one bundle simulation.",
            buckets=SIMULATION_BUCKETS,
            registry=r,
        )
        self._block_processing = Histogram(
            PREFIX + "block_processing_seconds",
            "Duration of processing one block (strategies, risk, simulation, submission).",
            buckets=BLOCK_BUCKETS,
            registry=r,
        )

    def detected(self, strategy: str, n: int = 1) -> None:
        """``strategy`` returned ``n`` intents."""
        self._detected.labels(strategy=strategy).inc(n)

    def rejected(self, reason: str) -> None:
        """The risk manager rejected an intent (``reason``: a ``live.risk.Reason`` value)."""
        self._rejected.labels(reason=reason).inc()

    def submitted(self, relay: str, latency_s: float | None = None) -> None:
        """``relay`` accepted a bundle, ``latency_s`` after its triggering event arrived."""
        self._submitted.labels(relay=relay).inc()
        if latency_s is not None:
            self._latency.observe(latency_s)

    def relay_error(self, relay: str) -> None:
        """A request to ``relay`` failed (no answer after retries, or a rejection)."""
        self._relay_errors.labels(relay=relay).inc()

    def included(self, n: int = 1) -> None:
        """``n`` bundles landed in their target block."""
        self._included.inc(n)

    def missed(self, n: int = 1) -> None:
        """``n`` bundles did not land in their target block."""
        self._missed.inc(n)

    def block(self, number: int, processing_s: float) -> None:
        """Block ``number`` was processed in ``processing_s``; it is the head from now on."""
        with self._lock:
            self._head_seen = self._clock()
            self._head.set(number)
        self._blocks.inc()
        self._block_processing.observe(processing_s)

    def reconnected(self) -> None:
        """The WebSocket subscription to the node was re-established."""
        self._reconnects.inc()

    def skipped(self, what: str) -> None:
        """An event was skipped (see ``events_skipped``); the runner goes on."""
        self._skipped.labels(what=what).inc()

    def backfilled(self, n: int = 1) -> None:
        """``n`` blocks missed by the subscription were fetched."""
        self._backfilled.inc(n)

    def reorg(self, depth: int) -> None:
        """A reorg orphaned the last ``depth`` blocks processed."""
        self._reorgs.inc()
        self._orphaned.inc(depth)

    def landed_outside_target(self) -> None:
        """A transaction of ours landed outside the block its bundle targeted."""
        self._outside.inc()

    def profit(self, realised_wei: int, expected_wei: int) -> None:
        """Add one settled bundle's net realised and expected profit (either may be negative)."""
        with self._lock:
            self._realised += realised_wei
            self._expected += expected_wei
            self._realised_gauge.set(self._realised)
            self._expected_gauge.set(self._expected)

    def at_risk(self, wei: int) -> None:
        """The capital now reserved by the intents in flight (replaces the previous value)."""
        self._at_risk.set(wei)

    def simulated(self, seconds: float) -> None:
        """One bundle simulation took ``seconds``."""
        self._simulation.observe(seconds)

    @property
    def realised_wei(self) -> int:
        """The exact net realised profit recorded through ``profit``."""
        return self._realised

    @property
    def expected_wei(self) -> int:
        """The exact net expected profit recorded through ``profit``."""
        return self._expected

    def head_age(self) -> float | None:
        """Seconds since the last ``block`` call, or None before the first."""
        with self._lock:
            seen = self._head_seen
        return None if seen is None else max(0.0, self._clock() - seen)

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format (serve it with ``CONTENT_TYPE``)."""
        return generate_latest(self.registry)

    def _age_or_nan(self) -> float:
        age = self.head_age()
        return math.nan if age is None else age
