"""The risk manager: each rule alone, then random streams of intents and settlements."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from live.risk import (
    DAY_MS,
    Decision,
    Reason,
    Rejection,
    RiskError,
    RiskLimits,
    RiskManager,
    UnknownIntentError,
    default_gas_limit,
    worst_case_loss,
)
from live.token_safety import InMemoryTokenSafety, TokenSafety
from workbench.errors import ConfigError, RpcTransportError, WorkbenchError
from workbench.market.graph import Cycle, find_cycles
from workbench.market.sizing import simulate
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.strategy.intents import ArbIntent

WETH, TKA, TKB, TKC = ("0x" + c * 20 for c in ("ee", "aa", "bb", "cc"))
E18, GWEI = 10**18, 10**9
NOON = int(datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp() * 1000)


def v2(addr: str, t0: str, t1: str, r0: int, r1: int) -> UniswapV2Pool:
    return UniswapV2Pool(
        address="0x" + addr * 40, token0=t0, token1=t1, reserve0=r0, reserve1=r1, fee=3000
    )


POOLS = [
    v2("1", TKA, WETH, 210_000 * E18, 100 * E18),
    v2("2", TKA, WETH, 200_000 * E18, 100 * E18),
    v2("3", TKB, WETH, 100 * E18, 50_000 * E18),
    v2("4", TKB, WETH, 100 * E18, 52_000 * E18),
    v2("5", TKC, WETH, 10**24, 10**22),
    v2("6", TKC, WETH, 10**24, 11 * 10**21),
]
CYCLES = find_cycles(POOLS, WETH, max_hops=2)
A, B, C = (next(c for c in CYCLES if c.hops[0].token_out == t) for t in (TKA, TKB, TKC))
FEE = 10 * GWEI


def arb(cycle: Cycle = A, amount_in: int = E18, after_tx: str | None = None) -> ArbIntent:
    """An intent on a real V2 cycle: its expected profit is the exact screening profit."""
    return ArbIntent(
        strategy="test",
        cycle=cycle,
        amount_in=amount_in,
        expected_profit=simulate(cycle, amount_in)[1],
        min_profit=0,
        gas_estimate=150_000,
        bid_bps=5000,
        after_tx=after_tx,
    )


def at_risk(intent: ArbIntent, fee: int = FEE) -> int:
    return intent.amount_in + worst_case_loss(intent, fee)


def manager(**limits: object) -> RiskManager:
    safety = limits.pop("token_safety", None)
    cfg = RiskLimits.model_validate({"capital_cap": 10 * E18, **limits})
    return RiskManager(cfg, token_safety=safety)  # type: ignore[arg-type]


def ask(rm: RiskManager, intent: ArbIntent, block: int = 100, now: int = NOON) -> Decision:
    return rm.approve(intent, now, target_block=block, max_fee_per_gas=FEE)


def test_cycles_are_real_and_distinct() -> None:
    assert len(CYCLES) == 6 and len({c.id for c in CYCLES}) == 6
    assert simulate(A, E18)[1] > 0 and {A.base, B.base, C.base} == {WETH}


def test_worst_case_loss_is_the_gas_at_the_signed_limit_and_fee() -> None:
    intent = arb()
    assert default_gas_limit(intent) == 360_000  # 2 x 150k, plus 20%
    assert worst_case_loss(intent, FEE) == 360_000 * FEE
    assert worst_case_loss(intent, FEE, gas_limit=200_000) == 200_000 * FEE
    rm = manager()
    assert ask(rm, intent) == Decision(True)
    assert rm.reserved == E18 + 360_000 * FEE
    rm.approve(arb(B), NOON, target_block=100, max_fee_per_gas=FEE, gas_limit=200_000)
    assert rm.reserved == 2 * E18 + 560_000 * FEE
    with pytest.raises(RiskError):
        rm.approve(intent, NOON, target_block=101, max_fee_per_gas=-1)


def test_capital_cap_counts_amounts_and_worst_losses_in_flight_until_settled() -> None:
    first = arb(A, 6 * E18)
    rm = manager(capital_cap=at_risk(first) + at_risk(arb(B, 4 * E18)))
    assert ask(rm, first).approved
    assert ask(rm, arb(B, 4 * E18)).approved  # exactly at the cap
    refused = ask(rm, arb(C, 1))
    assert refused.reason == Reason.CAPITAL_CAP and "cap" in (refused.detail or "")
    rm.settle(first.key, 10**15, 10**14, landed=True, now_ms=NOON)
    assert rm.reserved == at_risk(arb(B, 4 * E18))
    assert ask(rm, arb(C, 6 * E18)).approved
    alone = manager(capital_cap=E18)
    assert ask(alone, arb(A, E18)).reason == Reason.CAPITAL_CAP  # gas pushes it over


def test_per_trade_cap_is_on_amount_in() -> None:
    rm = manager(per_trade_cap=2 * E18)
    assert ask(rm, arb(A, 2 * E18)).approved
    assert ask(rm, arb(B, 2 * E18 + 1)).reason == Reason.PER_TRADE_CAP


def test_daily_loss_limit_counts_losses_and_gas_and_rolls_over_at_utc_midnight() -> None:
    rm = manager(daily_loss_limit=10**16)
    late = NOON + 11 * 3_600_000  # 23:00 UTC
    for block, cycle in enumerate((A, B, C, A), start=100):
        assert ask(rm, arb(cycle), block, late).approved
    assert rm.settle(A.id, 0, 4 * 10**15, landed=True, target_block=100, now_ms=late) < 0
    rm.settle(B.id, 10**17, 10**15, landed=True, now_ms=late)  # a win offsets nothing
    assert rm.settle(C.id, 10**15, 5 * 10**15, landed=True, now_ms=late) == -4 * 10**15
    assert rm.losses_on(late) == 8 * 10**15 and ask(rm, arb(B), 200, late).approved
    rm.settle(A.id, 0, 2 * 10**15, landed=True, target_block=103, now_ms=late)  # reverted
    assert rm.losses_on(late) == 10**16
    refused = ask(rm, arb(C), 201, late)
    assert refused.reason == Reason.DAILY_LOSS_LIMIT and "10000000000000000" in (
        refused.detail or ""
    )
    assert ask(rm, arb(C), 201, late + 3_599_999).reason == Reason.DAILY_LOSS_LIMIT
    midnight = (late // DAY_MS + 1) * DAY_MS
    assert rm.losses_on(midnight) == 0 and ask(rm, arb(C), 201, midnight).approved
    rm.settle(B.id, 0, 0, landed=False)  # no time given: the latest time seen (next day)
    assert rm.losses_on(late) == 10**16


def test_circuit_breaker_opens_after_n_failures_in_a_row_and_cools_down() -> None:
    rm = manager(max_consecutive_failures=3, cooldown_ms=60_000)
    for block in range(100, 106):
        assert ask(rm, arb(A), block).approved
    rm.settle(A.id, 0, 10**14, landed=True, now_ms=NOON)
    rm.settle(A.id, 0, 10**14, landed=True, now_ms=NOON)
    rm.settle(A.id, 0, 0, landed=False, now_ms=NOON)  # not included, free: neutral
    assert rm.consecutive_failures == 2
    rm.settle(A.id, 10**15, 10**14, landed=True, now_ms=NOON)  # a landed win ends the run
    assert rm.consecutive_failures == 0
    for _ in range(2):
        rm.settle(A.id, 0, 10**14, landed=True, now_ms=NOON)
    assert ask(rm, arb(B), 100, NOON + 1).approved
    opened = NOON + 5_000
    rm.settle(B.id, 10**13, 10**14, landed=True, now_ms=opened)  # third failure in a row
    assert rm.circuit_open_until_ms == opened + 60_000
    assert ask(rm, arb(C), 110, opened).reason == Reason.CIRCUIT_OPEN
    assert ask(rm, arb(C), 110, opened + 59_999).reason == Reason.CIRCUIT_OPEN
    assert ask(rm, arb(C), 110, opened + 60_000).approved
    assert rm.consecutive_failures == 0  # a fresh run of N is needed to open it again


def test_allowlists_and_a_denylist_that_always_wins() -> None:
    pools_a = frozenset(h.address for h in A.hops)
    rm = manager(pool_allowlist=pools_a | {B.hops[0].address})
    assert ask(rm, arb(A)).approved
    refused = ask(rm, arb(B))
    assert refused.reason == Reason.POOL_NOT_ALLOWED and B.hops[1].address in (refused.detail or "")
    rm = manager(token_allowlist={TKA.upper().replace("0X", "0x")})  # kept lowercase
    assert ask(rm, arb(A)).approved  # the base token needs no listing
    assert ask(rm, arb(B)).reason == Reason.TOKEN_NOT_ALLOWED
    rm = manager(
        pool_allowlist=pools_a, token_allowlist={TKA, TKB}, denylist={A.hops[1].address, TKB}
    )
    assert ask(rm, arb(A)).reason == Reason.DENIED  # allowed pool, but denied
    assert ask(rm, arb(B)).reason == Reason.DENIED  # allowed token, but denied
    assert ask(manager(denylist={WETH}), arb(C)).reason == Reason.DENIED
    assert ask(manager(base_token=TKA), arb(C)).reason == Reason.WRONG_BASE_TOKEN


def test_token_safety_is_asked_once_per_token_before_its_first_use() -> None:
    safety = InMemoryTokenSafety({TKB: "fee on transfer: 1% of every transfer"})
    assert isinstance(safety, TokenSafety)
    rm = manager(token_safety=safety)
    assert ask(rm, arb(A), 100).approved and ask(rm, arb(A), 101).approved
    refused = ask(rm, arb(B), 100)
    assert refused.reason == Reason.UNSAFE_TOKEN and "fee on transfer" in (refused.detail or "")
    assert ask(rm, arb(B), 101).reason == Reason.UNSAFE_TOKEN
    assert safety.calls == [TKA, TKB]  # cached, both verdicts; never the base token
    assert ask(manager(token_safety=safety, per_trade_cap=1), arb(C)).approved is False
    assert TKC not in safety.calls  # cheap rules first: no simulation for a refused intent

    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        def check(self, token: str) -> str | None:
            self.calls += 1
            if self.calls == 1:
                raise RpcTransportError("fork node down")
            return None

    flaky = Flaky()
    rm = manager(token_safety=flaky)
    assert ask(rm, arb(A)).reason == Reason.TOKEN_CHECK_FAILED
    assert ask(rm, arb(A)).approved and flaky.calls == 2  # a failed check is not cached


def test_the_same_opportunity_for_the_same_block_is_approved_once() -> None:
    rm = manager(dedupe_blocks=10)
    assert ask(rm, arb(A), 100).approved
    assert ask(rm, arb(A, 2 * E18), 100).reason == Reason.DUPLICATE  # another size: same key
    assert ask(rm, arb(A, after_tx="0xabc"), 100).approved  # a backrun is another opportunity
    assert ask(rm, arb(A), 101).approved  # the next block is another chance
    rm.settle(A.id, 0, 0, landed=False, target_block=100)
    assert ask(rm, arb(A), 100).reason == Reason.DUPLICATE  # settled still counts
    assert ask(rm, arb(B), 111).approved
    assert ask(rm, arb(B), 101).reason == Reason.STALE_TARGET_BLOCK
    assert ask(rm, arb(A), 100).reason == Reason.STALE_TARGET_BLOCK  # forgotten, still refused


def test_kill_switch_file_is_checked_on_every_call(tmp_path: Path) -> None:
    switch = tmp_path / "STOP"
    rm = manager(kill_switch=switch)
    assert ask(rm, arb(A), 100).approved
    switch.touch()
    assert rm.status(NOON)["kill_switch"] is True
    refused = ask(rm, arb(B), 100)
    assert refused.reason == Reason.KILL_SWITCH and str(switch) in (refused.detail or "")
    switch.unlink()
    assert ask(rm, arb(B), 100).approved


def test_every_rejection_is_recorded_with_its_reason_and_counted() -> None:
    seen: list[Rejection] = []
    limits = RiskLimits(capital_cap=10 * E18, per_trade_cap=2 * E18)
    rm = RiskManager(limits, on_reject=seen.append)
    ask(rm, arb(A), 100, NOON)
    ask(rm, arb(A), 100, NOON + 1)
    ask(rm, arb(B, 3 * E18), 100, NOON + 2)
    ask(rm, arb(A), 100, NOON + 3)
    assert [(r.time_ms, r.key, r.target_block, r.reason) for r in rm.rejections] == [
        (NOON + 1, A.id, 100, "duplicate"),
        (NOON + 2, B.id, 100, "per_trade_cap"),
        (NOON + 3, A.id, 100, "duplicate"),
    ]
    assert seen == rm.rejections and all(r.detail for r in seen)
    assert rm.rejected == {"duplicate": 2, "per_trade_cap": 1} and rm.approved == 1
    assert rm.drain_rejections() == seen and rm.rejections == []
    assert rm.rejected["duplicate"] == 2  # counters survive a drain
    status = rm.status(NOON)
    assert status["reserved"] == at_risk(arb(A)) and status["in_flight"] == 1
    assert status["rejected"] == {"duplicate": 2, "per_trade_cap": 1}


def test_settle_each_approval_once() -> None:
    rm = manager()
    ask(rm, arb(A), 100, NOON)
    ask(rm, arb(A, 2 * E18), 101, NOON + 1)
    rm.settle(A.id, 0, 0, landed=False)  # the oldest approval of the key
    assert [(r.target_block, r.amount_in) for r in rm.in_flight] == [(101, 2 * E18)]
    with pytest.raises(UnknownIntentError, match="block 100") as err:
        rm.settle(A.id, 0, 0, landed=False, target_block=100)
    assert isinstance(err.value, LookupError) and isinstance(err.value, WorkbenchError)
    with pytest.raises(UnknownIntentError):
        rm.settle(B.id, 0, 0, landed=False)
    with pytest.raises(RiskError, match="gas_cost"):
        rm.settle(A.id, 0, -1, landed=True)


def test_limits_are_frozen_integer_and_say_what_is_wrong() -> None:
    limits = RiskLimits(capital_cap=E18, denylist=frozenset({"0x" + "AB" * 20}))
    assert limits.denylist == {"0x" + "ab" * 20}
    with pytest.raises(Exception, match="frozen"):
        limits.capital_cap = 1  # type: ignore[misc]
    for bad, field in [
        ({"capital_cap": 1.0}, "capital_cap"),
        ({"capital_cap": "1"}, "capital_cap"),
        ({"capital_cap": 0}, "capital_cap"),
        ({"capital_cap": 1, "per_trade_cap": 0.5}, "per_trade_cap"),
        ({"capital_cap": 1, "token_allowlist": ["WETH"]}, "token_allowlist"),
        ({"capital_cap": 1, "max_loss": 1}, "max_loss"),
    ]:
        with pytest.raises(ConfigError, match=rf"bad risk limits: {field}.*wei of the base"):
            RiskLimits.from_mapping(bad)
    loaded = RiskLimits.from_mapping(
        {"capital_cap": 2 * E18, "kill_switch": "/tmp/STOP", "pool_allowlist": []}
    )
    assert loaded.kill_switch == Path("/tmp/STOP") and loaded.pool_allowlist == frozenset()


# Random streams: intents on 6 cycles x 3 backrun targets, settlements with wins, losses,
# reverts and misses, time moving over UTC midnights, the kill switch flipping.
CAP, PER_TRADE, DAILY, FAILS, COOL = 6 * E18, 4 * E18, 5 * 10**16, 3, 20 * 60_000
START = NOON + 10 * 3_600_000  # 22:00 UTC: streams cross midnight
TARGETS = (None, "0x01", "0x02")


def scaled(low: int, high: int, unit: int) -> st.SearchStrategy[int]:
    """Integers spread over [low, high] units plus noise (hypothesis favours small ints)."""
    return st.builds(lambda n, r: n * unit + r, st.integers(low, high), st.integers(0, unit - 1))


INTENT = st.tuples(
    st.just("intent"),
    st.sampled_from([i for i, c in enumerate(CYCLES) if c.hops[0].token_out == TKA])
    | st.integers(0, len(CYCLES) - 1),  # mostly cycles through TKA: no rule refuses them
    st.sampled_from(TARGETS),
    st.integers(0, 3),  # target block ahead of the head
    st.integers(1, 10**15) | scaled(0, 600, 10**16).map(lambda x: x + 1),  # gas or amount
    st.integers(0, 50 * GWEI) | scaled(0, 500, GWEI),  # up to 1.5 ETH of worst-case gas
    st.none() | st.integers(21_000, 3_000_000),
)
SETTLE = st.tuples(
    st.just("settle"),
    st.integers(0, 10**6),  # which intent in flight
    scaled(-20, 20, 10**15),  # realised pnl
    scaled(0, 10, 10**15),  # gas cost
    st.booleans(),  # landed
)
ADVANCE = st.tuples(st.just("advance"), st.integers(0, 120_000) | scaled(0, 180, 60_000))
KILL = st.tuples(st.just("kill"), st.sampled_from([True, False, False]))
KINDS = {"intent": INTENT, "settle": SETTLE, "advance": ADVANCE, "kill": KILL}
OPS = st.lists(
    st.sampled_from(["intent"] * 5 + ["settle"] * 2 + ["advance", "kill"]).flatmap(KINDS.get),
    min_size=30,
    max_size=150,
)


@settings(max_examples=200, deadline=None)
@given(ops=OPS)
def test_random_streams_never_break_a_limit(
    ops: list[tuple], tmp_path_factory: pytest.TempPathFactory
) -> None:
    switch = tmp_path_factory.getbasetemp() / "risk_kill_switch"
    switch.unlink(missing_ok=True)
    denied_pool = B.hops[0].address
    safety = InMemoryTokenSafety({TKC: "sells blocked"})
    rm = RiskManager(
        RiskLimits(
            capital_cap=CAP,
            per_trade_cap=PER_TRADE,
            daily_loss_limit=DAILY,
            max_consecutive_failures=FAILS,
            cooldown_ms=COOL,
            denylist=frozenset({denied_pool}),
            kill_switch=switch,
            base_token=WETH,
        ),
        token_safety=safety,
    )
    now, head = START, 1_000
    in_flight: list[tuple[str, int, int]] = []  # the model's own books: key, block, at risk
    pairs: set[tuple[str, int]] = set()
    losses: dict[int, int] = {}
    streak, open_until, rejected = 0, -1, 0
    for op in ops:
        if op[0] == "intent":
            _, i, after, ahead, amount, fee, gas_limit = op
            intent = arb(CYCLES[i], amount, after)
            block = head + ahead
            need = amount + (default_gas_limit(intent) if gas_limit is None else gas_limit) * fee
            before = rm.reserved
            decision = rm.approve(
                intent, now, target_block=block, max_fee_per_gas=fee, gas_limit=gas_limit
            )
            if decision.approved:
                assert not switch.exists()
                assert now >= open_until
                assert losses.get(now // DAY_MS, 0) < DAILY
                assert (intent.key, block) not in pairs
                assert amount <= PER_TRADE
                assert denied_pool not in {h.address for h in intent.cycle.hops}
                assert TKC not in {h.token_out for h in intent.cycle.hops}
                pairs.add((intent.key, block))
                assert before + need <= CAP
                in_flight.append((intent.key, block, need))
            else:
                rejected += 1
                why = {  # a state rule refuses only when the model says it must
                    Reason.KILL_SWITCH: switch.exists(),
                    Reason.CIRCUIT_OPEN: now < open_until,
                    Reason.DAILY_LOSS_LIMIT: losses.get(now // DAY_MS, 0) >= DAILY,
                    Reason.DUPLICATE: (intent.key, block) in pairs,
                    Reason.CAPITAL_CAP: before + need > CAP,
                }
                assert why.get(Reason(decision.reason), True)
                last = rm.rejections[-1]
                assert (last.key, last.target_block, last.reason, last.time_ms) == (
                    intent.key,
                    block,
                    decision.reason,
                    now,
                )
                event(f"rejected: {decision.reason}")
        elif op[0] == "settle" and in_flight:
            _, pick, pnl, gas, landed = op
            key, block, _ = in_flight.pop(pick % len(in_flight))
            net = rm.settle(key, pnl, gas, landed, target_block=block, now_ms=now)
            assert net == pnl - gas
            if net < 0:
                losses[now // DAY_MS] = losses.get(now // DAY_MS, 0) - net
                streak += 1
                if streak == FAILS:
                    streak, open_until = 0, now + COOL
            elif landed:
                streak = 0
        elif op[0] == "advance":
            now += op[1]
            head += op[1] // 12_000
        elif op[0] == "kill":
            if op[1]:
                switch.touch()
            else:
                switch.unlink(missing_ok=True)
        assert rm.reserved == sum(r for _, _, r in in_flight) <= CAP
        assert rm.losses_on(now) == losses.get(now // DAY_MS, 0)
        assert len(rm.rejections) == sum(rm.rejected.values()) == rejected
    switch.unlink(missing_ok=True)


def test_a_reorg_undoes_a_settlement_until_it_is_final() -> None:
    rm = manager(daily_loss_limit=10**16)
    intent = arb(A)
    assert ask(rm, intent, 100).approved
    reserved = rm.reserved
    assert rm.settle(A.id, 0, 4 * 10**15, landed=True, target_block=100, now_ms=NOON) < 0
    assert rm.reserved == 0 and rm.losses_on(NOON) == 4 * 10**15
    assert rm.consecutive_failures == 1
    rm.unsettle(A.id, 100)  # block 100 orphaned: in flight again, the loss taken back
    assert rm.reserved == reserved and rm.losses_on(NOON) == 0
    assert rm.consecutive_failures == 0
    # settled again against the block that replaced it: it did not land there
    assert rm.settle(A.id, 0, 0, landed=False, target_block=100, now_ms=NOON) == 0
    assert rm.reserved == 0 and rm.losses_on(NOON) == 0
    rm.finalise(100)
    with pytest.raises(UnknownIntentError):
        rm.unsettle(A.id, 100)  # final: no reorg can undo it


def test_a_transaction_no_approval_covers_counts_its_loss() -> None:
    rm = manager(daily_loss_limit=10**16, max_consecutive_failures=1)
    rm.count_unplanned(-3 * 10**15, NOON)
    assert rm.losses_on(NOON) == 3 * 10**15
    assert ask(rm, arb(A), 100).reason == Reason.CIRCUIT_OPEN
    rm.count_unplanned(10**15, NOON)  # a gain changes nothing
    assert rm.losses_on(NOON) == 3 * 10**15


def test_a_token_verdict_expires_and_the_token_is_checked_again() -> None:
    safety = InMemoryTokenSafety()
    rm = manager(token_safety=safety, token_check_ttl_ms=60_000)
    assert ask(rm, arb(A), 100, NOON).approved and ask(rm, arb(A), 101, NOON + 59_999).approved
    assert safety.calls == [TKA]
    safety.unsafe[TKA] = "sells are blocked: the owner paused it"  # changed since
    refused = ask(rm, arb(A), 102, NOON + 60_000)
    assert refused.reason == Reason.UNSAFE_TOKEN and "paused" in (refused.detail or "")
    assert safety.calls == [TKA, TKA]


def test_the_state_a_restart_takes_over() -> None:
    rm = manager(daily_loss_limit=10**16, max_consecutive_failures=3)
    assert ask(rm, arb(A), 100).approved and ask(rm, arb(B), 100).approved
    rm.settle(B.id, 0, 4 * 10**15, landed=True, target_block=100, now_ms=NOON)
    saved = orjson.loads(orjson.dumps(rm.export_state()))  # through JSON, as on disk
    again = manager(daily_loss_limit=10**16, max_consecutive_failures=3)
    again.import_state(saved)
    assert again.reserved == rm.reserved == at_risk(arb(A))
    assert again.losses_on(NOON) == 4 * 10**15 and again.consecutive_failures == 1
    assert ask(again, arb(A), 100).reason == Reason.DUPLICATE  # in flight already
    assert again.settle(A.id, 0, 0, landed=False, target_block=100, now_ms=NOON) == 0
    assert again.reserved == 0
    with pytest.raises(KeyError):
        again.import_state({"losses": {}})
