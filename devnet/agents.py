"""Noise and informed traders: who trades what, when in the slot, and at what fees.

Noise traders pick a venue, a token pair and a route at random (direct, or two hops through
WETH or USDC), a Pareto(alpha=2) size in dollars, a slippage tolerance and a priority fee; they
stay away when the base fee exceeds what they will pay. Informed traders know the reference
price and push the most mispriced pool part of the way toward it, sized with the exact AMM
math. Both quote on the parent block's state, so pending flow makes some of them revert.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import isqrt, sqrt

from devnet.config import InformedParams, NoiseParams
from devnet.mempool import MempoolEntry, sign
from devnet.prices import ReferencePrices
from devnet.setup import Agent
from devnet.spec import SYMBOLS, PoolInfo
from devnet.trades import PoolState, Trade, TradeHop, Via, calldata, run
from workbench.chain.market_spec import DeployedMarket
from workbench.errors import MarketError
from workbench.market.uniswap_v2 import FEE_DENOMINATOR, UniswapV2Pool
from workbench.market.uniswap_v3.tick_math import get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio

_VIA: dict[str, Via] = {"uniswap": "router02", "v3": "swaprouter", "forkswap": "executor"}
_MWEI = 10**6
_DEADLINE_S = 120
_ROUTE_TRIES = 4


@dataclass(frozen=True, slots=True)
class TradingSlot:
    """What an agent knows while block ``number`` is being built."""

    number: int
    start_ms: int
    length_ms: int
    base_fee: int  # of this block, known from its parent
    reference: ReferencePrices
    states: Mapping[str, PoolState]  # after the parent block


@dataclass(slots=True)
class Trader:
    """An agent and its next nonce (the generator signs for it)."""

    agent: Agent
    nonce: int = 0

    def emit(
        self,
        trade: Trade,
        *,
        slot: TradingSlot,
        market: DeployedMarket,
        chain_id: int,
        first_seen_ms: int,
        tip: int,
        bid_bps: int = 0,
    ) -> MempoolEntry:
        """Signs ``trade`` with the next nonce, paying at most twice the base fee plus ``tip``."""
        to, data = calldata(
            trade,
            market,
            recipient=self.agent.account.address,
            deadline=(slot.start_ms + slot.length_ms) // 1000 + _DEADLINE_S,
            executor=self.agent.executor,
            bid_bps=bid_bps,
        )
        max_fee = 2 * slot.base_fee + tip
        gas = trade.gas_limit
        tx_hash, raw = sign(
            self.agent.account,
            chain_id=chain_id,
            nonce=self.nonce,
            to=to,
            data=data,
            gas=gas,
            max_fee=max_fee,
            tip=tip,
        )
        tx = MempoolEntry(
            hash=tx_hash,
            raw=raw,
            sender=self.agent.account.address,
            nonce=self.nonce,
            to=to,
            data=data,
            gas=gas,
            max_fee=max_fee,
            tip=tip,
            first_seen_ms=first_seen_ms,
            agent=self.agent.name,
            trade=trade,
        )
        self.nonce += 1
        return tx


class Routes:
    """Pools by venue and token pair: direct routes, or two hops through WETH or USDC."""

    def __init__(self, pools: Sequence[PoolInfo]) -> None:
        self.pools = tuple(pools)
        self._by_pair: defaultdict[tuple[str, frozenset[str]], list[PoolInfo]] = defaultdict(list)
        for p in pools:
            self._by_pair[(p.venue, frozenset((p.symbol_a, p.symbol_b)))].append(p)

    def _pick(self, venue: str, a: str, b: str, rng: random.Random) -> TradeHop | None:
        pools = self._by_pair.get((venue, frozenset((a, b))))
        return TradeHop(rng.choice(pools), a, b) if pools else None

    def find(self, venue: str, a: str, b: str, rng: random.Random) -> tuple[TradeHop, ...] | None:
        if hop := self._pick(venue, a, b, rng):
            return (hop,)
        for mid in ("WETH", "USDC"):
            if mid in (a, b):
                continue
            first, second = self._pick(venue, a, mid, rng), self._pick(venue, mid, b, rng)
            if first and second:
                return (first, second)
        return None


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    point = rng.randrange(sum(w for _, w in choices))
    for value, weight in choices:
        if point < weight:
            return value
        point -= weight
    raise AssertionError("unreachable")


def noise_orders(
    params: NoiseParams, slot: TradingSlot, routes: Routes, rng: random.Random
) -> list[tuple[int, Trade, int]]:
    """This slot's (first-seen ms, trade, tip) of one noise trader (often none)."""
    if rng.random() >= params.active:
        return []
    count = 2 if rng.random() < params.second else 1
    orders = []
    for _ in range(count):
        seen = slot.start_ms + rng.randrange(slot.length_ms)
        lo, hi = params.max_base_fee_gwei
        if slot.base_fee > rng.randint(lo, hi) * 10**9:
            continue  # too expensive for this trader now
        venue = _weighted(rng, params.venues)
        for _ in range(_ROUTE_TRIES):
            a, b = rng.sample(SYMBOLS, 2)
            if hops := routes.find(venue, a, b, rng):
                break
        else:
            continue
        dollars = min(params.size_usd_min / sqrt(1.0 - rng.random()), params.size_usd_cap)
        amount = slot.reference.usd_to_units(a, int(dollars * 100))
        slippage = rng.choice(params.slippage_bps)
        tip = rng.choice(params.tips_mwei) * _MWEI
        trade = _priced(hops, amount, slippage, _VIA[venue], slot.states)
        if trade is not None:
            orders.append((seen, trade, tip))
    return orders


def _priced(
    hops: tuple[TradeHop, ...],
    amount: int,
    slippage_bps: int,
    via: Via,
    states: Mapping[str, PoolState],
) -> Trade | None:
    """The trade with its minimum output: the quote on ``states`` less the slippage allowed."""
    if amount <= 0:
        return None
    try:
        expected = run(hops, amount, states)[0]
    except MarketError:
        return None
    min_out = expected * (10_000 - slippage_bps) // 10_000
    return Trade(hops=hops, amount_in=amount, min_out=max(min_out, 1), via=via)


def pool_tick(pool: PoolInfo, state: PoolState) -> int:
    """The pool's price of ``symbol_b`` per ``symbol_a`` as a tick."""
    a_is_0 = state.token0 == pool.token_a
    if isinstance(state, UniswapV2Pool):
        r_a, r_b = (state.reserve0, state.reserve1) if a_is_0 else (state.reserve1, state.reserve0)
        return get_tick_at_sqrt_ratio(isqrt((r_b << 192) // r_a))
    return state.tick if a_is_0 else -state.tick


def amount_to_price(
    pool: PoolInfo, state: PoolState, sell: str, tick_b_per_a: int, cap: int
) -> int:
    """About how much of ``sell`` moves the pool's price to ``tick_b_per_a`` (at most ``cap``)."""
    a_is_0 = state.token0 == pool.token_a
    if isinstance(state, UniswapV2Pool):
        r_a, r_b = (state.reserve0, state.reserve1) if a_is_0 else (state.reserve1, state.reserve0)
        sqrt_p = get_sqrt_ratio_at_tick(tick_b_per_a)
        k = r_a * r_b
        if sell == pool.symbol_a:
            need = isqrt((k << 192) // (sqrt_p * sqrt_p)) - r_a
        else:
            need = isqrt((k * sqrt_p * sqrt_p) >> 192) - r_b
        need = need * FEE_DENOMINATOR // (FEE_DENOMINATOR - pool.fee)
        return max(0, min(need, cap))
    limit = get_sqrt_ratio_at_tick(tick_b_per_a if a_is_0 else -tick_b_per_a)
    try:
        return state.swap_exact_in(pool.token(sell), cap, sqrt_price_limit_x96=limit).amount_in
    except MarketError:
        return 0  # the limit is on the other side of the price: nothing to do


def informed_order(
    params: InformedParams, slot: TradingSlot, pools: Sequence[PoolInfo], rng: random.Random
) -> tuple[int, Trade, int] | None:
    """This slot's (first-seen ms, trade, tip) of one informed trader, if it trades."""
    if rng.random() >= params.active:
        return None
    seen = slot.start_ms + rng.randrange(slot.length_ms)
    edges = []
    for pool in pools:
        target = slot.reference.pair_tick(pool.symbol_a, pool.symbol_b)
        gap = pool_tick(pool, slot.states[pool.address]) - target
        edge = abs(gap) - pool.fee // 100 - params.min_edge_bps
        if edge > 0:
            edges.append((edge, pool, target, gap))
    if not edges:
        return None
    edges.sort(key=lambda e: -e[0])
    _, pool, target, gap = edges[rng.randrange(min(3, len(edges)))]
    sell = pool.symbol_a if gap > 0 else pool.symbol_b  # too much b per a: a is dear here
    cap = slot.reference.usd_to_units(sell, params.size_usd_cap * 100)
    need = amount_to_price(pool, slot.states[pool.address], sell, target, cap)
    amount = need * rng.randint(*params.fraction_pct) // 100
    hops = (TradeHop(pool, sell, pool.other(sell)),)
    trade = _priced(hops, amount, params.slippage_bps, _VIA[pool.venue], slot.states)
    return None if trade is None else (seen, trade, rng.choice(params.tips_mwei) * _MWEI)
