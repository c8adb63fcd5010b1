"""Arbitrage bots: at a fixed moment in each slot, replay the pending transactions they have
seen (in the order a builder would include them) on the parent block's pools, find the most
profitable WETH cycle of two or three hops, and send it through their own Executor with a
fixed priority fee and a fixed share of the profit bid to the block's coinbase.

Their priority fee is below every trader's, so a builder places them after the flow they
saw; flow they did not see, or the other bot, can take the opportunity first, and then the
Executor's minimum-profit check reverts them: the public-mempool competition of the devnet.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from devnet.agents import Trader, TradingSlot
from devnet.config import BotParams
from devnet.mempool import Mempool, MempoolEntry, builder_order
from devnet.spec import PoolInfo
from devnet.trades import PoolState, Trade, TradeHop
from devnet.trades import simulate as apply_trade
from workbench.chain.market_spec import DeployedMarket
from workbench.errors import MarketError
from workbench.market.graph import Cycle, find_cycles
from workbench.market.sizing import optimal_input, simulate

PROBE_WEI = 10**15
"""A cycle that loses on 0.001 WETH cannot win on more (profit is concave in the input)."""
_GAS_USED = (60_000, 100_000)  # expected gas: base, per hop (for the bid decision)
_MWEI = 10**6


class Bot:
    """One arbitrage bot: its parameters, its account and Executor, and its cycles."""

    def __init__(
        self,
        params: BotParams,
        trader: Trader,
        pools: Sequence[PoolInfo],
        states: dict[str, PoolState],
        weth: str,
    ) -> None:
        self.params = params
        self.trader = trader
        self.pending: str | None = None  # its transaction not yet mined
        self._pools = {p.address.lower(): p for p in pools}
        self._symbols = {
            token.lower(): symbol
            for p in pools
            for token, symbol in ((p.token_a, p.symbol_a), (p.token_b, p.symbol_b))
        }
        self._cycles = find_cycles(states.values(), base=weth, max_hops=3)

    def decide(
        self,
        slot: TradingSlot,
        mempool: Mempool,
        market: DeployedMarket,
        chain_id: int,
        rng: random.Random,
    ) -> MempoolEntry | None:
        """Its arbitrage for this slot, if one pays for its gas and bid."""
        if self.pending is not None:
            return None
        now = slot.start_ms + self.params.decide_at_ms
        states = dict(slot.states)
        for tx in builder_order(mempool.seen_by(now), slot.base_fee):
            apply_trade(tx.trade, states)
        trade = self._best(states, slot.base_fee + self.params.tip_mwei * _MWEI)
        if trade is None:
            return None
        tx = self.trader.emit(
            trade,
            slot=slot,
            market=market,
            chain_id=chain_id,
            first_seen_ms=now + rng.randrange(20, 120),
            tip=self.params.tip_mwei * _MWEI,
            bid_bps=self.params.bid_bps,
        )
        self.pending = tx.hash
        return tx

    def _best(self, states: dict[str, PoolState], gas_price: int) -> Trade | None:
        by_address = {a.lower(): s for a, s in states.items()}
        best: tuple[int, Trade] | None = None
        for cycle in self._cycles:
            current = cycle.with_pools(by_address)
            try:
                if simulate(current, PROBE_WEI)[1] <= 0:
                    continue
            except MarketError:
                continue
            opportunity = optimal_input(current, max_input=self.params.max_input)
            if opportunity is None:
                continue
            base, per_hop = _GAS_USED
            cost = (base + per_hop * len(cycle.hops)) * gas_price
            net = opportunity.profit * (10_000 - self.params.bid_bps) // 10_000 - cost
            if net > 0 and (best is None or net > best[0]):
                trade = Trade(
                    hops=self._hops(current),
                    amount_in=opportunity.amount_in,
                    min_out=opportunity.amount_in + max(1, opportunity.profit // 2),
                    via="executor",
                )
                best = (net, trade)
        return None if best is None else best[1]

    def _hops(self, cycle: Cycle) -> tuple[TradeHop, ...]:
        return tuple(
            TradeHop(self._pools[h.address], self._symbols[h.token_in], self._symbols[h.token_out])
            for h in cycle.hops
        )
