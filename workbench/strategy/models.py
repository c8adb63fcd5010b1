"""The bid and slippage models a strategy consults (DESIGN: "the gas and slippage models" are
part of the context). Pure integer decisions; probabilities are floats (statistics only).

- Bid: ``ConstantShare`` pays a fixed share of the profit to the coinbase (the baseline);
  ``ExpectedNetBid`` asks a fitted inclusion model for P(win | bid, size, block fullness) and
  picks the bid that maximizes the expected net profit P(win) * (profit - bid - gas).
- Slippage: ``slippage_guards`` turns a tolerance into the Executor's ``minProfit`` and
  per-hop minimum outputs, never below break-even, so a bundle whose opportunity shrank by
  more than the tolerance (or below its costs) reverts instead of losing money.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from workbench.market.graph import Cycle
from workbench.market.sizing import hop_outputs

BPS = 10_000


@runtime_checkable
class WinModel(Protocol):
    """P(our bundle wins inclusion) for a coinbase payment of ``paid`` wei on an opportunity
    worth ``value`` wei (gross) when the parent block was ``fullness_bps`` full."""

    def p_win(self, paid: int, value: int, fullness_bps: int) -> float: ...

    def candidate_bids(self, value: int) -> list[int]:
        """Payments worth considering (the least that can win, and just above each payment
        seen in history)."""
        ...


class BidPolicy(Protocol):
    def bid_bps(self, value: int, gas_cost: int, fullness_bps: int) -> int:
        """Share of the gross profit ``value`` (wei) to pay the coinbase, in basis points."""
        ...


@dataclass(frozen=True, slots=True)
class ConstantShare:
    """The baseline: always ``bps`` of the profit."""

    bps: int

    def bid_bps(self, value: int, gas_cost: int, fullness_bps: int) -> int:
        return self.bps


@dataclass(frozen=True, slots=True)
class ExpectedNetBid:
    """The bid (in bps, at most ``max_bps``) with the largest P(win) * (value - bid - gas);
    ``margin_bps`` is added above each historical payment, against noise in the estimate of
    what the competitor's opportunity was worth."""

    model: WinModel
    max_bps: int = 9_900
    margin_bps: int = 0

    def bid_bps(self, value: int, gas_cost: int, fullness_bps: int) -> int:
        if value <= 0:
            return 0
        candidates = set()
        for paid in self.model.candidate_bids(value):
            bps = -(-paid * BPS // value) + self.margin_bps  # at least ``paid``, plus margin
            if bps <= self.max_bps:
                candidates.add(bps)
        best_bps, best = 0, 0.0  # bidding nothing (and so never winning) if nothing pays
        for bps in sorted(candidates):
            net = value - value * bps // BPS - gas_cost
            expected = self.model.p_win(value * bps // BPS, value, fullness_bps) * net
            if expected > best:
                best_bps, best = bps, expected
        return best_bps


def break_even(gas_cost: int, bid_bps: int) -> int:
    """The least gross profit g for which g - bid - gas >= 0, with the Executor's bid
    floor(g * bid_bps / 10000): g - floor(g * b / 10000) = ceil(g * (10000 - b) / 10000)."""
    return max(0, (gas_cost - 1) * BPS // (BPS - bid_bps) + 1)


@dataclass(frozen=True, slots=True)
class Guards:
    min_profit: int
    hop_min_outs: tuple[int, ...]


def slippage_guards(
    cycle: Cycle,
    amount_in: int,
    expected_profit: int,
    gas_cost: int,
    bid_bps: int,
    tolerance_bps: int,
) -> Guards:
    """``minProfit`` = the larger of break-even and (1 - tolerance) of the expected profit;
    each hop's minimum output = (1 - tolerance) of its expected output. A tolerance of 10000
    bps guards only break-even (no per-hop minimum)."""
    floor = break_even(gas_cost, bid_bps)
    if tolerance_bps >= BPS:
        return Guards(floor, ())
    keep = BPS - tolerance_bps
    outs = hop_outputs(cycle, amount_in)
    return Guards(
        max(floor, expected_profit * keep // BPS),
        tuple(out * keep // BPS for out in outs),
    )
