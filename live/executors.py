"""The live runner's executors (``workbench.engine.executor.Executor``): an intent is simulated
on the follower's pending chain, checked by the risk manager, then only recorded
(``ShadowExecutor``) or signed and sent to the relays (``RelayExecutor``); after its target
block each attempt is settled: reconciled from the receipts when it was sent, its capital
released either way. Which one runs is the only difference between shadow and live mode."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor as ThreadPool
from dataclasses import dataclass, field
from typing import Any, ClassVar

from live.metrics import LiveMetrics
from live.reconcile import Realised, realised
from live.risk import RiskManager
from live.submit import BundleSender, Sent, expected_net
from workbench.engine.executor import Attempt, Placement, SlotEnv
from workbench.errors import AnvilError
from workbench.execution.bundle import max_fee_per_gas
from workbench.execution.simulate import AnvilSimulator, SimResult
from workbench.rpc import RpcTransportError
from workbench.sources.block_view import BlockData
from workbench.store import ActionKind, LiveActionRecord
from workbench.strategy.intents import ArbIntent

log = logging.getLogger(__name__)

Publish = Callable[[str, Mapping[str, Any]], object]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Tally:
    """What the run did so far (the status API's counters)."""

    blocks: int = 0
    backfilled: int = 0
    opportunities: int = 0
    submitted: int = 0
    landed: int = 0
    realised_net: int = 0  # landed bundles, final or not
    confirmed_net: int = 0  # landed bundles whose block is final (enough confirmations)
    expected_net: int = 0
    reorgs: int = 0
    outside_target: int = 0  # our transactions that landed where no bundle of ours aimed them
    cancelled: int = 0  # bundles withdrawn from the relays when the run halted
    orphaned_blocks: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # events skipped, by what

    def counters(self) -> dict[str, Any]:
        """The status API's view of them."""
        return {
            "blocks": self.blocks,
            "backfilled": self.backfilled,
            "opportunities": self.opportunities,
            "submitted": self.submitted,
            "landed": self.landed,
            "realised_net_wei": self.realised_net,
            "confirmed_net_wei": self.confirmed_net,
            "reorgs": self.reorgs,
            "landed_outside_target": self.outside_target,
            "cancelled": self.cancelled,
            "orphaned_blocks": self.orphaned_blocks,
            "expected_net_wei": self.expected_net,
            "skipped": dict(self.skipped),
        }


@dataclass
class LiveContext:
    """What the live executors share with the runner that drives them."""

    simulator: Callable[[], AnvilSimulator]  # on the follower's current process
    risk: RiskManager
    tally: Tally
    weth: str
    executor_address: str  # our Executor contract
    nonce: Callable[[], int | None]  # our account's transaction count at the head, if known
    follower_failed: Callable[[str], None]  # the follower must re-fork before it is used
    metrics: LiveMetrics | None = None
    publish: Publish | None = None
    persist: Callable[[], None] | None = None  # the risk state, after each bundle sent


class ShadowExecutor:
    """Simulates, risk-checks and records every intent; submits nothing."""

    mode: ClassVar[str] = "shadow"

    def __init__(self, ctx: LiveContext) -> None:
        self.ctx = ctx

    def prepare(self, target_block: int, writer: ThreadPool) -> None:
        """A slot for ``target_block`` opened (the relay executor reserves its nonce)."""

    async def execute(self, intent: ArbIntent, slot: SlotEnv, placement: Placement) -> Attempt:
        attempt = self._decide(intent, slot, placement)
        if attempt.approved:
            await self._act(attempt, slot)
        return attempt

    async def _act(self, attempt: Attempt, slot: SlotEnv) -> None:
        if self.ctx.publish is not None:
            self.ctx.publish("decision", action_json(attempt.intent, attempt.action))

    def _decide(self, intent: ArbIntent, slot: SlotEnv, placement: Placement) -> Attempt:
        """The simulation on the pending chain (which holds a backrun's target already) and
        the risk manager's word on it."""
        ctx, started = self.ctx, time.perf_counter()
        try:
            sim = ctx.simulator().simulate(
                intent, slot.env, slot.coinbase, (), placement.gas_left, nonce=ctx.nonce()
            )
        except (RpcTransportError, AnvilError) as exc:
            sim = SimResult(status="error", revert_reason=f"the follower failed: {exc}")
            ctx.follower_failed(str(exc))
        if ctx.metrics is not None:
            ctx.metrics.simulated(time.perf_counter() - started)
            ctx.metrics.detected(intent.strategy)
        ctx.tally.opportunities += 1
        target = slot.env.number
        action = LiveActionRecord(
            mode=self.mode,
            action=ActionKind.SKIPPED,
            target_block=target,
            decided_at_ms=now_ms(),
            latency_ms=(time.perf_counter_ns() - placement.arrived_ns) / 1e6,
            expected_pnl=expected_net(sim) if sim.status == "success" else None,
        )
        attempt = Attempt(intent, placement, sim, action)
        if sim.status != "success":
            attempt.action = dataclasses.replace(
                action, reason="simulation", detail=f"{sim.status}: {sim.revert_reason}"
            )
            return attempt
        max_fee = max_fee_per_gas(ctx.simulator().cfg, slot.env.base_fee, intent.priority_fee)
        decision = ctx.risk.approve(
            intent, now_ms(), target_block=target, max_fee_per_gas=max_fee, gas_limit=sim.gas_limit
        )
        if not decision.approved:
            attempt.action = dataclasses.replace(
                action,
                action=ActionKind.REJECTED,
                reason=str(decision.reason),
                detail=decision.detail,
            )
            if ctx.metrics is not None:
                ctx.metrics.rejected(str(decision.reason))
            return attempt
        attempt.approved = True
        attempt.action = dataclasses.replace(action, action=ActionKind.APPROVED)
        if ctx.metrics is not None:
            ctx.metrics.at_risk(ctx.risk.reserved)
        return attempt

    def reverts_now(self, intent: ArbIntent) -> bool:
        return self.ctx.simulator().reverts_now(intent)

    def settle(self, attempts: Sequence[Attempt], block: BlockData) -> None:
        mined = {t["hash"].lower() for t in block.transactions}
        for attempt in attempts:
            self._settle(attempt, block, mined)

    def _settle(self, attempt: Attempt, block: BlockData, mined: set[str]) -> None:
        """The attempt's action with what happened in its target block; its capital freed."""
        ctx, now = self.ctx, now_ms()
        sent: Sent | None = attempt.ticket
        action = attempt.action
        assert action is not None
        if sent is None:
            if attempt.approved:
                ctx.risk.settle(
                    attempt.intent.key, 0, 0, False, target_block=block.number, now_ms=now
                )
            return
        ours = sent.tx.hash.lower()
        landed = ours in mined
        got: Realised | None = None
        if landed:
            receipt = next(r for h, r in block.receipts.items() if h.lower() == ours)
            got = realised(
                receipt, block.logs_of(receipt["transaction_hash"]), ctx.weth, ctx.executor_address
            )
            ctx.tally.landed += 1
            ctx.tally.realised_net += got.net
        if attempt.approved:
            ctx.risk.settle(
                attempt.intent.key,
                got.weth_delta if got else 0,
                got.gas_cost if got else 0,
                landed,
                target_block=block.number,
                now_ms=now,
            )
        attempt.action = dataclasses.replace(
            action,
            landed=landed,
            realised_pnl=got.net if got else 0,
            gas_cost=got.gas_cost if got else 0,
            bid_paid=got.bid_paid if got else 0,
        )
        if ctx.metrics is not None:
            ctx.metrics.included(1) if landed else ctx.metrics.missed(1)
            ctx.metrics.profit(got.net if got else 0, expected_net(attempt.sim))
        if ctx.publish is not None:
            ctx.publish("reconciled", action_json(attempt.intent, attempt.action))

    def unsettle(self, attempts: Sequence[Attempt], block: int) -> None:
        """A reorg orphaned ``block``: its attempts' settlements are undone (capital reserved
        again, loss and PnL taken back), to be settled against the block that replaced it."""
        ctx = self.ctx
        for attempt in reversed(attempts):
            action = attempt.action
            assert action is not None
            if attempt.approved:
                ctx.risk.unsettle(attempt.intent.key, block)
            if attempt.ticket is None:
                continue
            if action.landed:
                ctx.tally.landed -= 1
                ctx.tally.realised_net -= action.realised_pnl or 0
            if ctx.metrics is not None:
                ctx.metrics.profit(-(action.realised_pnl or 0), -expected_net(attempt.sim))
            attempt.action = dataclasses.replace(
                action, landed=None, realised_pnl=None, gas_cost=None, bid_paid=None
            )

    def finalise(self, attempts: Sequence[Attempt], block: int) -> None:
        """``block`` has enough confirmations: its attempts' results are final."""
        self.ctx.risk.finalise(block)
        for attempt in attempts:
            if attempt.action is not None and attempt.action.landed:
                self.ctx.tally.confirmed_net += attempt.action.realised_pnl or 0


class RelayExecutor(ShadowExecutor):
    """Also signs each approved intent and sends its bundle (a backrun's target first) to
    the relays, one bundle per target block in flight (a better one replaces it)."""

    mode: ClassVar[str] = "live"

    def __init__(self, ctx: LiveContext, sender: BundleSender, chain_head: Callable[[], int]):
        super().__init__(ctx)
        self.sender = sender
        self.chain_head = chain_head

    def prepare(self, target_block: int, writer: ThreadPool) -> None:
        self.sender.prepare(target_block, writer)  # the nonce, off the path to sending

    async def _act(self, attempt: Attempt, slot: SlotEnv) -> None:
        ctx, sender = self.ctx, self.sender
        assert attempt.action is not None
        target = slot.env.number
        net = expected_net(attempt.sim)
        skip = None
        if target <= self.chain_head():
            skip = ("late", f"block {target} is already mined")
        elif not sender.better_than_in_flight(target, net):
            skip = ("better_in_flight", f"a bundle expecting more is in flight for block {target}")
        if skip is not None:
            reason, detail = skip
            attempt.action = dataclasses.replace(
                attempt.action, action=ActionKind.SKIPPED, reason=reason, detail=detail
            )
            return
        before = tuple(b for b in attempt.placement.before if isinstance(b, str))
        if len(before) != len(attempt.placement.before):  # only a replay sends unsigned ones
            raise ValueError("a bundle carries signed transactions only; the target is unsigned")
        tx, uuid_ = sender.sign(attempt.intent, attempt.sim, slot.env, target)
        sent = await asyncio.to_thread(
            sender.send, attempt.intent, attempt.sim, tx, uuid_, target, before
        )
        latency_ms = (sent.started_ns - attempt.placement.arrived_ns) / 1e6  # to the hand-off
        attempt.ticket = sent
        if ctx.persist is not None:
            ctx.persist()
        ctx.tally.submitted += 1
        ctx.tally.expected_net += net
        attempt.action = dataclasses.replace(
            attempt.action,
            action=ActionKind.SUBMITTED,
            latency_ms=latency_ms,
            tx_hash=tx.hash,
            nonce=tx.nonce,
            bundle_hash=sent.bundle.hash,
            relays=tuple(
                {
                    "relay": s.relay,
                    "status": s.status,
                    "attempts": s.attempts,
                    "latency_ms": round(s.latency_ms, 3),
                    "error": s.error,
                }
                for s in sent.submissions
            ),
        )
        if ctx.metrics is not None:
            for s in sent.submissions:
                if s.ok:
                    ctx.metrics.submitted(s.relay, latency_ms / 1000)
                elif s.status != "duplicate":
                    ctx.metrics.relay_error(s.relay)
        if ctx.publish is not None:
            ctx.publish("decision", action_json(attempt.intent, attempt.action))

    def settle(self, attempts: Sequence[Attempt], block: BlockData) -> None:
        super().settle(attempts, block)
        self._outside_target(attempts, block)
        self.sender.settle(block.number, {t["hash"].lower() for t in block.transactions})
        nonce = self.ctx.nonce()
        if nonce is not None:  # the chain's word on what is used, whatever we missed
            self.sender.nonces.sync(nonce, through_block=block.number)

    def _outside_target(self, attempts: Sequence[Attempt], block: BlockData) -> None:
        """Counts each transaction of ours in ``block`` that none of its bundles carried (one
        that leaked, or a bundle's that landed late): its result is realised all the same."""
        ctx = self.ctx
        me = self.sender.account.address.lower()
        aimed = {a.ticket.tx.hash.lower() for a in attempts if a.ticket is not None}
        earlier = self.sender.in_flight.get(block.number)  # an earlier run's, taken over
        if earlier is not None:
            aimed.add(earlier.tx.hash.lower())
        for tx in block.transactions:
            if str(tx["from"]).lower() != me or tx["hash"].lower() in aimed:
                continue
            receipt = next(r for h, r in block.receipts.items() if h.lower() == tx["hash"].lower())
            got = realised(
                receipt, block.logs_of(receipt["transaction_hash"]), ctx.weth, ctx.executor_address
            )
            ctx.tally.outside_target += 1
            ctx.tally.realised_net += got.net
            ctx.risk.count_unplanned(got.net, now_ms())
            if ctx.metrics is not None:
                ctx.metrics.landed_outside_target()
                ctx.metrics.profit(got.net, 0)
            log.error(
                "our transaction %s (nonce %s) landed in block %d, which no bundle of ours aimed "
                "it at; it realised %d wei",
                tx["hash"],
                tx.get("nonce"),
                block.number,
                got.net,
            )

    def unsettle(self, attempts: Sequence[Attempt], block: int) -> None:
        super().unsettle(attempts, block)
        self.sender.unsettle(block)

    def finalise(self, attempts: Sequence[Attempt], block: int) -> None:
        super().finalise(attempts, block)
        self.sender.finalise(block)


def action_json(intent: ArbIntent, action: LiveActionRecord | None) -> dict[str, Any]:
    """An action as the status API's events carry it."""
    assert action is not None
    return {
        "key": intent.key,
        "strategy": intent.strategy,
        "target_block": action.target_block,
        "action": str(action.action),
        "reason": action.reason,
        "expected_pnl_wei": action.expected_pnl,
        "latency_ms": action.latency_ms,
        "tx_hash": action.tx_hash,
        "landed": action.landed,
        "realised_pnl_wei": action.realised_pnl,
    }
