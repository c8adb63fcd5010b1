"""RetryPolicy delays and the CircuitBreaker state machine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from workbench.errors import ConfigError
from workbench.rpc import BreakerPolicy, BreakerState, CircuitBreaker, RetryPolicy

unit = st.floats(0.0, 1.0, exclude_max=True)


def test_delays_double_up_to_the_cap() -> None:
    p = RetryPolicy(base_delay=0.1, max_delay=1.0, jitter="none")
    assert [p.delay(n, lambda: 0.5) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert p.delay(10_000, lambda: 0.5) == 1.0  # no overflow for huge retry counts


@given(st.integers(0, 100), unit, st.floats(0.001, 1.0), st.floats(1.0, 30.0))
def test_jitter_bounds(retry: int, r: float, base: float, cap: float) -> None:
    backoff = min(cap, base * 2**retry)
    full = RetryPolicy(base_delay=base, max_delay=cap, jitter="full").delay(retry, lambda: r)
    equal = RetryPolicy(base_delay=base, max_delay=cap, jitter="equal").delay(retry, lambda: r)
    assert 0.0 <= full <= backoff
    assert backoff / 2 <= equal <= backoff


@given(st.integers(0, 10), unit, st.floats(0.0, 100.0))
def test_retry_after_is_honoured_up_to_max_delay(retry: int, r: float, after: float) -> None:
    p = RetryPolicy(base_delay=0.01, max_delay=2.0)
    d = p.delay(retry, lambda: r, retry_after=after)
    assert min(after, 2.0) <= d <= 2.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_delay": -1.0},
        {"base_delay": 5.0, "max_delay": 1.0},
        {"jitter": "half"},
    ],
)
def test_bad_retry_policies_say_what_is_wrong(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"failure_threshold": 0}, {"cooldown": -1.0}])
def test_bad_breaker_policies_say_what_is_wrong(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="BreakerPolicy needs failure_threshold >= 1"):
        BreakerPolicy(**kwargs)  # type: ignore[arg-type]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_walkthrough() -> None:
    clock = FakeClock()
    b = CircuitBreaker(BreakerPolicy(failure_threshold=2, cooldown=10.0), clock)
    b.record_failure()
    assert b.state is BreakerState.CLOSED and b.allows()
    b.record_failure()
    assert b.state is BreakerState.OPEN and not b.allows() and b.retry_in() == 10.0
    clock.now += 10.0
    assert b.state is BreakerState.HALF_OPEN and b.allows()
    b.record_failure()  # failed probe: open again for a full cooldown
    assert b.state is BreakerState.OPEN and b.retry_in() == 10.0
    clock.now += 10.0
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.failures == 0 and b.retry_in() == 0.0


class BreakerMachine(RuleBasedStateMachine):
    """The breaker against a plain model: consecutive failures, time of opening."""

    THRESHOLD, COOLDOWN = 3, 5.0

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.breaker = CircuitBreaker(BreakerPolicy(failure_threshold=3, cooldown=5.0), self.clock)
        self.failures = 0
        self.opened_at: float | None = None

    @rule()
    def success(self) -> None:
        self.breaker.record_success()
        self.failures, self.opened_at = 0, None

    @rule()
    def failure(self) -> None:
        self.breaker.record_failure()
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.THRESHOLD:
            self.opened_at = self.clock.now

    @rule(dt=st.floats(0.0, 8.0))
    def wait(self, dt: float) -> None:
        self.clock.now += dt

    @invariant()
    def matches_model(self) -> None:
        if self.opened_at is None:
            expected = BreakerState.CLOSED
        elif self.clock.now - self.opened_at >= self.COOLDOWN:
            expected = BreakerState.HALF_OPEN
        else:
            expected = BreakerState.OPEN
        assert self.breaker.state is expected
        assert self.breaker.allows() == (expected is not BreakerState.OPEN)
        assert self.breaker.failures == self.failures


TestBreakerMachine = BreakerMachine.TestCase
