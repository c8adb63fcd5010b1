"""How often and how long to wait between attempts: exponential backoff with jitter.

Jitter spreads retries from many clients so a recovering node is not hit in lockstep
("full" jitter waits uniformly in [0, backoff]; "equal" keeps at least half the backoff).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from workbench.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """``max_attempts`` tries in all; before retry ``n`` (0-based) wait about ``base_delay * 2**n``."""

    max_attempts: int = 4
    base_delay: float = 0.05
    max_delay: float = 2.0
    jitter: Literal["full", "equal", "none"] = "full"

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if not 0 <= self.base_delay <= self.max_delay:
            raise ConfigError(
                f"RetryPolicy needs 0 <= base_delay <= max_delay, got {self.base_delay} and {self.max_delay}"
            )
        if self.jitter not in ("full", "equal", "none"):
            raise ConfigError(
                f"RetryPolicy.jitter must be 'full', 'equal' or 'none', got {self.jitter!r}"
            )

    def delay(
        self, retry: int, rng: Callable[[], float], retry_after: float | None = None
    ) -> float:
        """Seconds to wait before retry number ``retry`` (0-based).

        ``rng`` returns floats in [0, 1). A server's ``Retry-After`` is honoured up to ``max_delay``.
        """
        backoff = min(self.max_delay, self.base_delay * 2.0 ** min(retry, 60))
        if self.jitter == "full":
            backoff *= rng()
        elif self.jitter == "equal":
            backoff = backoff / 2 + backoff / 2 * rng()
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.max_delay))
        return backoff


class TransportFault(Exception):
    """One failed attempt at one endpoint: what happened, and whether retrying may help.

    Internal to the package: clients collect faults and raise ``RpcTransportError`` at the end.
    """

    def __init__(
        self, reason: str, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
