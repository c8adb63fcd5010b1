"""Competition and outcomes: did someone else take the same opportunity in the recorded block,
and what did they pay? Then each intent's outcome and its PnL under both bounds.

Same opportunity = a recorded transaction whose swaps cover every hop of our cycle (same pools,
same direction); for a backrun, only transactions after the target compete. What they paid is
their priority fee plus the WETH they unwrapped in the transaction (how Executor-style bots pay
the coinbase; a direct ETH transfer without an event is not visible in logs, so this is a
lower bound). We win when we pay strictly more; a bundle that pays the builder nothing (no
bid, no priority fee) is not included; a bundle that is not included costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.execution.simulate import SimResult, unwrapped_by
from workbench.market.events import LogDecodeError, decode_log
from workbench.market.uniswap_v2 import V2Swap
from workbench.market.uniswap_v3 import V3Swap
from workbench.sources.block_view import BlockData
from workbench.strategy.intents import ArbIntent


def swaps_of(logs: list[dict[str, Any]]) -> set[tuple[str, bool]]:
    """(pool, zero_for_one) of every V2/V3 swap in ``logs`` (look-alike events are skipped)."""
    out = set()
    for log in logs:
        try:
            event = decode_log(log)
        except LogDecodeError:
            continue
        if isinstance(event, V2Swap):
            out.add((event.address.lower(), event.amount0_in > 0))
        elif isinstance(event, V3Swap):
            out.add((event.address.lower(), event.amount0 > 0))
    return out


@dataclass(frozen=True, slots=True)
class Competitor:
    tx_hash: str
    paid: int  # wei: priority fee + unwrapped WETH


def find_competitor(block: BlockData, intent: ArbIntent, weth: str) -> Competitor | None:
    """The highest-paying recorded transaction that took the same opportunity, if any."""
    wanted = {
        (h.pool.address.lower(), h.token_in.lower() < h.token_out.lower())
        for h in intent.cycle.hops
    }
    start = 0
    if intent.after_tx:
        hashes = [t["hash"] for t in block.transactions]
        start = hashes.index(intent.after_tx) + 1 if intent.after_tx in hashes else len(hashes)
    best: Competitor | None = None
    for tx in block.transactions[start:]:
        logs = block.logs_of(tx["hash"])
        if not wanted <= swaps_of(logs):
            continue
        receipt = block.receipts.get(tx["hash"])
        if receipt is None or receipt.get("status") == 0:
            continue
        priority = (int(receipt["effective_gas_price"] or 0) - block.base_fee) * int(
            receipt["gas_used"]
        )
        paid = priority + unwrapped_by(logs, weth)
        if best is None or paid > best.paid:
            best = Competitor(tx["hash"], paid)
    return best


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str
    net: int  # profit - bid - gas cost, if it landed alone
    pnl_upper_bound: int
    pnl_with_competition: int
    competitor: Competitor | None


def judge(intent: ArbIntent, sim: SimResult, competitor: Competitor | None) -> Outcome:
    if sim.status != "success":
        return Outcome("reverted", 0, 0, 0, competitor)
    net = sim.profit - sim.bid_paid - sim.gas_cost
    if net <= 0:
        return Outcome("unprofitable_after_gas", net, 0, 0, competitor)
    ours = sim.bid_paid + intent.priority_fee * sim.gas_used
    if ours == 0:
        return Outcome("not_included", net, 0, 0, competitor)
    if competitor is not None and competitor.paid >= ours:
        return Outcome("lost_to_competitor", net, net, 0, competitor)
    return Outcome("won", net, net, net, competitor)
