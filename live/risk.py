"""The risk manager: between strategy and executor, it approves or rejects each intent.

Capital: every approved intent reserves ``amount_in`` plus its worst-case loss (its gas at the
signed gas limit and max fee: the Executor reverts unless its base-token balance did not fall,
so gas is all a landed bundle can lose) until it is settled; the reservations together never
exceed ``capital_cap``. Each rejection is recorded with its reason. Amounts are integers in wei
of the base token (gas wei count 1:1, the base being WETH). Times are UTC milliseconds.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from live.risk_limits import Reason, RiskLimits
from live.token_safety import TokenSafety
from workbench.errors import WorkbenchError
from workbench.strategy.intents import ArbIntent

__all__ = [
    "DAY_MS",
    "Decision",
    "Reason",
    "Rejection",
    "Reservation",
    "RiskError",
    "RiskLimits",
    "RiskManager",
    "UnknownIntentError",
    "default_gas_limit",
    "worst_case_loss",
]

DAY_MS = 86_400_000


class RiskError(WorkbenchError, ValueError):
    """The risk manager was called with impossible arguments."""


class UnknownIntentError(RiskError, LookupError):
    """``settle`` named an intent that is not in flight (never approved, or settled already)."""

    def __init__(self, key: str, target_block: int | None) -> None:
        self.key = key
        self.target_block = target_block
        at = "" if target_block is None else f" for block {target_block}"
        super().__init__(
            f"no approved intent {key!r}{at} is in flight; settle each approval exactly once"
        )


@dataclass(frozen=True, slots=True)
class Decision:
    approved: bool
    reason: str | None = None  # a ``Reason`` when rejected
    detail: str | None = None  # what exactly, for people


@dataclass(frozen=True, slots=True)
class Rejection:
    time_ms: int
    key: str
    target_block: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Settlement:
    """A settled intent's effects, kept until final so that a reorg can undo them."""

    reservation: Reservation
    net: int
    day: int
    failures_before: int  # the run of failures before it


@dataclass(frozen=True, slots=True)
class Reservation:
    key: str
    target_block: int
    amount_in: int
    worst_loss: int
    approved_ms: int

    @property
    def at_risk(self) -> int:
        return self.amount_in + self.worst_loss


def default_gas_limit(intent: ArbIntent) -> int:
    """The most gas a bundle is sent with when its measured limit is not known yet: the
    simulator's limit (twice the estimate, at least 300k) plus the executor's 20% margin."""
    return max(2 * intent.gas_estimate, 300_000) * 6 // 5


def worst_case_loss(intent: ArbIntent, max_fee_per_gas: int, gas_limit: int | None = None) -> int:
    """Wei a landed bundle can lose at most: all its gas at the max fee (the Executor reverts
    rather than end with less of the base token)."""
    return (default_gas_limit(intent) if gas_limit is None else gas_limit) * max_fee_per_gas


class RiskManager:
    """Approves intents under ``limits``; ``settle`` each approval once its target block is
    past (landed or not) to release its capital and count its loss. Thread-safe."""

    def __init__(
        self,
        limits: RiskLimits,
        token_safety: TokenSafety | None = None,
        on_reject: Callable[[Rejection], None] | None = None,
    ) -> None:
        self.limits = limits
        self.token_safety = token_safety
        self.on_reject = on_reject
        self.rejections: list[Rejection] = []  # kept until ``drain_rejections``
        self.rejected: Counter[str] = Counter()  # per reason, never drained
        self.approved = 0
        self.consecutive_failures = 0
        self.circuit_open_until_ms: int | None = None
        self._in_flight: dict[tuple[str, int], Reservation] = {}
        self._seen: dict[int, set[str]] = {}  # target block -> keys approved for it
        self._highest_block: int | None = None
        self._losses: dict[int, int] = {}  # UTC day -> realised losses
        self._settled: dict[tuple[str, int], Settlement] = {}  # not final yet
        self._token_verdicts: dict[str, tuple[str | None, int]] = {}  # verdict, when
        self._clock_ms = 0
        self._lock = threading.Lock()

    @property
    def reserved(self) -> int:
        """Capital at risk: amount in plus worst-case loss of every intent in flight."""
        return sum(r.at_risk for r in self._in_flight.values())

    @property
    def in_flight(self) -> list[Reservation]:
        return list(self._in_flight.values())

    def losses_on(self, now_ms: int) -> int:
        """Realised losses on the UTC day of ``now_ms``."""
        return self._losses.get(now_ms // DAY_MS, 0)

    def kill_switch_on(self) -> bool:
        return self.limits.kill_switch is not None and self.limits.kill_switch.exists()

    def approve(
        self,
        intent: ArbIntent,
        now_ms: int,
        *,
        target_block: int,
        max_fee_per_gas: int,
        gas_limit: int | None = None,
    ) -> Decision:
        """Approve ``intent`` for ``target_block`` (reserving its capital) or say why not.

        ``max_fee_per_gas`` and ``gas_limit`` are what its transaction is signed with (the
        limit defaults to ``default_gas_limit``); they bound its loss."""
        if max_fee_per_gas < 0 or (gas_limit is not None and gas_limit <= 0):
            raise RiskError("max_fee_per_gas must be >= 0 and gas_limit > 0")
        with self._lock:
            self._clock_ms = max(self._clock_ms, now_ms)
            worst = worst_case_loss(intent, max_fee_per_gas, gas_limit)
            reason, detail = self._check(intent, now_ms, target_block, worst)
            if reason is not None:
                rejection = Rejection(now_ms, intent.key, target_block, reason, detail)
                self.rejections.append(rejection)
                self.rejected[reason] += 1
                if self.on_reject is not None:
                    self.on_reject(rejection)
                return Decision(False, reason, detail)
            self._reserve(intent, now_ms, target_block, worst)
            self.approved += 1
            return Decision(True)

    def _check(
        self, intent: ArbIntent, now_ms: int, block: int, worst: int
    ) -> tuple[Reason, str] | tuple[None, str]:
        """The first rule the intent breaks (cheap rules first, token simulation last)."""
        lim = self.limits
        if self.kill_switch_on():
            return Reason.KILL_SWITCH, f"kill-switch file {lim.kill_switch} exists"
        if self.circuit_open_until_ms is not None and now_ms < self.circuit_open_until_ms:
            return Reason.CIRCUIT_OPEN, (
                f"{lim.max_consecutive_failures} failures in a row; "
                f"cooling down until {self.circuit_open_until_ms} ms"
            )
        lost = self.losses_on(now_ms)
        if lim.daily_loss_limit is not None and lost >= lim.daily_loss_limit:
            return Reason.DAILY_LOSS_LIMIT, f"lost {lost} today, limit {lim.daily_loss_limit}"
        if self._highest_block is not None and block <= self._highest_block - lim.dedupe_blocks:
            return Reason.STALE_TARGET_BLOCK, (
                f"block {block} is {lim.dedupe_blocks} or more blocks before block "
                f"{self._highest_block} (approved already): too old to dedupe"
            )
        if intent.key in self._seen.get(block, ()):
            return Reason.DUPLICATE, f"already approved for block {block}"
        cycle = intent.cycle
        if lim.base_token is not None and cycle.base != lim.base_token:
            return Reason.WRONG_BASE_TOKEN, f"base {cycle.base}, the cap is in {lim.base_token}"
        pools = [hop.address for hop in cycle.hops]
        tokens = list(dict.fromkeys(h.token_out for h in cycle.hops if h.token_out != cycle.base))
        denied = [a for a in (cycle.base, *pools, *tokens) if a in lim.denylist]
        if denied:
            return Reason.DENIED, f"denylisted: {', '.join(denied)}"
        if lim.pool_allowlist is not None:
            outside = [p for p in pools if p not in lim.pool_allowlist]
            if outside:
                return Reason.POOL_NOT_ALLOWED, f"not in the pool allowlist: {', '.join(outside)}"
        if lim.token_allowlist is not None:
            outside = [t for t in tokens if t not in lim.token_allowlist]
            if outside:
                return Reason.TOKEN_NOT_ALLOWED, (
                    f"not in the token allowlist: {', '.join(outside)}"
                )
        if lim.per_trade_cap is not None and intent.amount_in > lim.per_trade_cap:
            return Reason.PER_TRADE_CAP, (
                f"amount_in {intent.amount_in} > per-trade cap {lim.per_trade_cap}"
            )
        need = intent.amount_in + worst
        if self.reserved + need > lim.capital_cap:
            return Reason.CAPITAL_CAP, (
                f"{self.reserved} reserved + {need} (amount_in {intent.amount_in} + worst loss "
                f"{worst}) > cap {lim.capital_cap}"
            )
        return self._check_tokens(tokens, now_ms)

    def _check_tokens(
        self, tokens: Iterable[str], now_ms: int
    ) -> tuple[Reason, str] | tuple[None, str]:
        if self.token_safety is None:
            return None, ""
        for token in tokens:
            known = self._token_verdicts.get(token)
            if known is None or now_ms - known[1] >= self.limits.token_check_ttl_ms:
                try:
                    known = self._token_verdicts[token] = self.token_safety.check(token), now_ms
                except WorkbenchError as err:  # unknown, not unsafe: ask again next time
                    return Reason.TOKEN_CHECK_FAILED, f"{token}: {err}"
            verdict = known[0]
            if verdict is not None:
                return Reason.UNSAFE_TOKEN, f"{token}: {verdict}"
        return None, ""

    def _reserve(self, intent: ArbIntent, now_ms: int, block: int, worst: int) -> None:
        self._in_flight[(intent.key, block)] = Reservation(
            intent.key, block, intent.amount_in, worst, now_ms
        )
        self._seen.setdefault(block, set()).add(intent.key)
        if self._highest_block is None or block > self._highest_block:
            self._highest_block = block
            horizon = block - self.limits.dedupe_blocks
            for old in [b for b in self._seen if b <= horizon]:
                del self._seen[old]

    def settle(
        self,
        intent_key: str,
        realised_pnl: int,
        gas_cost: int,
        landed: bool,
        *,
        target_block: int | None = None,
        now_ms: int | None = None,
    ) -> int:
        """Release an approved intent's capital and record its result; returns its net PnL.

        ``realised_pnl`` is what the Executor gained in the base token net of the bid (0 if
        it did not land or reverted) and ``gas_cost`` the wei its transaction paid for gas;
        net = realised_pnl - gas_cost. A negative net is a loss of the UTC day of ``now_ms``
        (default: the latest time seen) and a failure; a landed bundle with net >= 0 ends a
        run of failures; one that did not land at no cost changes neither. Without
        ``target_block``, the oldest approval of ``intent_key`` is settled."""
        if gas_cost < 0:
            raise RiskError(f"gas_cost must be >= 0, got {gas_cost}")
        with self._lock:
            slot = self._find(intent_key, target_block)
            reservation = self._in_flight.pop(slot)
            now = self._clock_ms if now_ms is None else now_ms
            self._clock_ms = max(self._clock_ms, now)
            net = realised_pnl - gas_cost
            day = now // DAY_MS
            self._settled[slot] = Settlement(reservation, net, day, self.consecutive_failures)
            horizon = slot[1] - self.limits.dedupe_blocks  # final by then whoever forgot to say
            for done in [k for k in self._settled if k[1] <= horizon]:
                del self._settled[done]
            if net < 0:
                self._losses[day] = self._losses.get(day, 0) - net
                for old in [d for d in self._losses if d < day - 1]:
                    del self._losses[old]
                self._failed(now)
            elif landed:
                self.consecutive_failures = 0
            return net

    def count_unplanned(self, net: int, now_ms: int) -> None:
        """A transaction of ours that no approval covers (one that landed outside its target
        block) realised ``net``: a loss counts towards the daily limit and the breaker."""
        with self._lock:
            if net < 0:
                day = now_ms // DAY_MS
                self._losses[day] = self._losses.get(day, 0) - net
                self._failed(now_ms)

    def unsettle(self, intent_key: str, target_block: int) -> None:
        """Undoes the settlement of ``intent_key`` for ``target_block``, whose block a reorg
        orphaned: its capital is reserved again and its loss no longer counts, until it is
        settled against the block that replaced it. A breaker it opened stays open."""
        with self._lock:
            slot = (intent_key, target_block)
            done = self._settled.pop(slot, None)
            if done is None:
                raise UnknownIntentError(intent_key, target_block)
            self._in_flight[slot] = done.reservation
            if done.net < 0 and done.day in self._losses:
                self._losses[done.day] = max(0, self._losses[done.day] + done.net)
            self.consecutive_failures = done.failures_before

    def finalise(self, through_block: int) -> None:
        """Settlements for blocks up to ``through_block`` are final (confirmed deeply enough)."""
        with self._lock:
            for old in [k for k in self._settled if k[1] <= through_block]:
                del self._settled[old]

    def _find(self, key: str, block: int | None) -> tuple[str, int]:
        if block is not None:
            if (key, block) not in self._in_flight:
                raise UnknownIntentError(key, block)
            return key, block
        mine = [r for r in self._in_flight.values() if r.key == key]
        if not mine:
            raise UnknownIntentError(key, None)
        oldest = min(mine, key=lambda r: (r.approved_ms, r.target_block))
        return key, oldest.target_block

    def _failed(self, now_ms: int) -> None:
        self.consecutive_failures += 1
        limit = self.limits.max_consecutive_failures
        if limit is not None and self.consecutive_failures >= limit:
            self.circuit_open_until_ms = now_ms + self.limits.cooldown_ms
            self.consecutive_failures = 0

    def export_state(self) -> dict[str, Any]:
        """What must survive a restart (``live.risk_state``): the reservations in flight, the
        realised losses by UTC day, the run of failures and the breaker."""
        with self._lock:
            return {
                "in_flight": [
                    [r.key, r.target_block, str(r.amount_in), str(r.worst_loss), r.approved_ms]
                    for r in self._in_flight.values()
                ],
                "losses": {str(day): str(lost) for day, lost in self._losses.items()},
                "consecutive_failures": self.consecutive_failures,
                "circuit_open_until_ms": self.circuit_open_until_ms,
            }

    def import_state(self, state: Mapping[str, Any]) -> None:
        """Takes over ``export_state``'s result of an earlier run (its losses count today too,
        its reservations stay in flight until settled). ``KeyError`` / ``ValueError`` /
        ``TypeError`` when it is not one."""
        reservations = [
            Reservation(str(k), int(b), int(a), int(w), int(t))
            for k, b, a, w, t in state["in_flight"]
        ]
        losses = {int(day): int(lost) for day, lost in dict(state["losses"]).items()}
        failures = int(state["consecutive_failures"])
        until = state["circuit_open_until_ms"]
        with self._lock:
            for r in reservations:
                self._in_flight[(r.key, r.target_block)] = r
                self._seen.setdefault(r.target_block, set()).add(r.key)
            for day, lost in losses.items():
                self._losses[day] = max(self._losses.get(day, 0), lost)
            self.consecutive_failures = max(self.consecutive_failures, failures)
            if until is not None:
                self.circuit_open_until_ms = max(self.circuit_open_until_ms or 0, int(until))

    def drain_rejections(self) -> list[Rejection]:
        """The rejections recorded since the last drain (for the caller to persist)."""
        with self._lock:
            out, self.rejections = self.rejections, []
            return out

    def status(self, now_ms: int) -> dict[str, Any]:
        """A JSON-ready snapshot for the status API."""
        with self._lock:
            return {
                "capital_cap": self.limits.capital_cap,
                "reserved": self.reserved,
                "in_flight": len(self._in_flight),
                "losses_today": self.losses_on(now_ms),
                "daily_loss_limit": self.limits.daily_loss_limit,
                "consecutive_failures": self.consecutive_failures,
                "circuit_open_until_ms": self.circuit_open_until_ms,
                "kill_switch": self.kill_switch_on(),
                "approved": self.approved,
                "rejected": dict(self.rejected),
            }
