"""Screening shared by the arbitrage strategies: size every candidate cycle exactly, keep the
ones that pay for gas and the bid, and choose a set that touches each pool at most once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from workbench.errors import ConfigError
from workbench.market.graph import Cycle
from workbench.market.pool import Pool
from workbench.market.sizing import optimal_input
from workbench.market.venue import venue_of
from workbench.strategy.api import StrategyConfig
from workbench.strategy.context import StrategyContext
from workbench.strategy.intents import ArbIntent
from workbench.strategy.models import BidPolicy, ConstantShare, ExpectedNetBid, slippage_guards


def executable(pool: Pool) -> bool:
    """True when Executor.sol can trade a hop through ``pool``: its venue has an Executor hop."""
    owner = venue_of(pool)
    return owner is not None and owner.hop is not None


class ArbConfig(StrategyConfig):
    """Costs and thresholds of an arbitrage strategy; amounts in wei of the base token."""

    min_net_profit: int = Field(
        10**14,
        ge=0,
        description="after gas and bid",
        json_schema_extra={"tunable": [10**12, 10**16]},
    )
    bid_bps: int = Field(
        5_000,
        ge=0,
        le=9_999,
        description="share of profit paid to coinbase (the constant bid policy)",
        json_schema_extra={"tunable": [0, 9_900]},
    )
    bid_policy: Literal["constant", "expected_net"] = Field(
        "constant",
        description="constant: always bid_bps; expected_net: the bid maximizing P(win) * net "
        "under the context's fitted inclusion model",
        json_schema_extra={"tunable": ["constant", "expected_net"]},
    )
    bid_margin_bps: int = Field(
        0,
        ge=0,
        le=5_000,
        description="expected_net: added above each historical payment",
        json_schema_extra={"tunable": [0, 1_000]},
    )
    max_bid_bps: int = Field(9_900, ge=0, le=9_999, description="expected_net: the largest bid")
    slippage_bps: int = Field(
        10_000,
        ge=0,
        le=10_000,
        description="how far the profit and each hop's output may fall below the expected "
        "before the bundle reverts (10000: down to break-even only)",
        json_schema_extra={"tunable": [0, 10_000]},
    )
    priority_fee: int = Field(0, ge=0, description="wei per gas on top of the base fee")
    gas_base: int = Field(60_000, gt=0, description="Executor call overhead")
    gas_per_v2_hop: int = Field(70_000, gt=0)
    gas_per_v3_hop: int = Field(110_000, gt=0)
    max_input: int | None = Field(None, gt=0, description="largest amount_in (the capital at hand)")
    max_hops: int = Field(3, ge=2, le=3)


def gas_estimate(cycle: Cycle, cfg: ArbConfig) -> int:
    """The Executor call's overhead plus each hop's gas, as its venue's ``gas_field`` of
    ``cfg`` prices it."""
    return cfg.gas_base + sum(hop_gas(h.pool, cfg) for h in cycle.hops)


def hop_gas(pool: Pool, cfg: ArbConfig) -> int:
    """The gas of one hop through ``pool``: the ``ArbConfig`` field its venue names."""
    owner = venue_of(pool)
    if owner is None:
        raise ConfigError(f"no venue is registered for {type(pool).__name__} pools")
    gas: int = getattr(cfg, owner.gas_field)
    return gas


def bid_policy(ctx: StrategyContext, cfg: ArbConfig) -> BidPolicy:
    if cfg.bid_policy == "constant":
        return ConstantShare(cfg.bid_bps)
    if ctx.inclusion is None:
        raise ConfigError(
            "bid_policy 'expected_net' needs a fitted inclusion model: pass a params file "
            "written by `workbench tune` (--params FILE)"
        )
    return ExpectedNetBid(ctx.inclusion, max_bps=cfg.max_bid_bps, margin_bps=cfg.bid_margin_bps)


def screen(
    ctx: StrategyContext,
    cycles: Iterable[Cycle],
    cfg: ArbConfig,
    name: str,
    after_tx: str | None = None,
) -> list[ArbIntent]:
    """Profitable, non-conflicting intents for ``cycles`` on the context's pool states."""
    fee_per_gas = ctx.block.base_fee + cfg.priority_fee
    policy = bid_policy(ctx, cfg)
    found: list[tuple[int, ArbIntent]] = []
    for cycle in cycles:
        if len(cycle.hops) > cfg.max_hops or not all(
            h.pool.address.lower() in ctx.pools for h in cycle.hops
        ):
            continue
        current = cycle.with_pools(ctx.pools)
        if not all(executable(h.pool) for h in current.hops):
            continue
        sized = optimal_input(current, max_input=cfg.max_input)
        if sized is None:
            continue
        gas = gas_estimate(current, cfg)
        gas_cost = gas * fee_per_gas
        bid_bps = policy.bid_bps(sized.profit, gas_cost, ctx.block.parent_fullness_bps)
        bid = sized.profit * bid_bps // 10_000
        if bid == 0 and cfg.priority_fee == 0:
            continue  # it would pay the builder nothing: never included
        if sized.profit - bid - gas_cost < cfg.min_net_profit:
            continue
        guards = slippage_guards(
            current, sized.amount_in, sized.profit, gas_cost, bid_bps, cfg.slippage_bps
        )
        intent = ArbIntent(
            strategy=name,
            cycle=current,
            amount_in=sized.amount_in,
            expected_profit=sized.profit,
            min_profit=guards.min_profit,
            gas_estimate=gas,
            bid_bps=bid_bps,
            priority_fee=cfg.priority_fee,
            after_tx=after_tx,
            hop_min_outs=guards.hop_min_outs,
        )
        found.append((sized.profit - bid - gas_cost, intent))
    chosen: list[ArbIntent] = []
    used: set[str] = set()
    for _, intent in sorted(found, key=lambda pair: (-pair[0], pair[1].key)):
        pools = {p.address.lower() for p in intent.cycle.pools}
        if pools & used:
            continue  # its pools are already traded by a better intent in this block
        used |= pools
        chosen.append(intent)
    return chosen
