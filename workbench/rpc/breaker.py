"""Per-endpoint circuit breaker: stop sending to a node that keeps failing, probe it later.

closed --(failure_threshold consecutive failures)--> open --(cooldown)--> half-open;
half-open --success--> closed, half-open --failure--> open (cooldown restarts).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from workbench.errors import ConfigError


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerPolicy:
    """Open after ``failure_threshold`` consecutive failures; probe again after ``cooldown`` seconds."""

    failure_threshold: int = 5
    cooldown: float = 5.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.cooldown < 0:
            raise ConfigError(
                f"BreakerPolicy needs failure_threshold >= 1 and cooldown >= 0, got {self}"
            )


class CircuitBreaker:
    """The state of one endpoint; ``clock`` is injectable so tests need not sleep."""

    __slots__ = ("_clock", "_failures", "_opened_at", "policy")

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.policy.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def failures(self) -> int:
        """Consecutive failures so far."""
        return self._failures

    def allows(self) -> bool:
        """Whether a request may go to this endpoint now (closed, or half-open for a probe)."""
        return self._opened_at is None or self._clock() - self._opened_at >= self.policy.cooldown

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 if it already does)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.policy.cooldown - self._clock())

    def record_success(self) -> None:
        if self._failures:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._opened_at is not None or self._failures >= self.policy.failure_threshold:
            self._opened_at = self._clock()  # opens, or re-opens after a failed half-open probe
