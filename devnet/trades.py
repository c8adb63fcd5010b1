"""A swap transaction's content (route, amounts), its exact outcome, and its calldata.

Traders send through Router02 (Uniswap V2 pairs), SwapRouter (V3 ``exactInput`` paths) or
their own Executor (any pools: the fork DEX has no router). A ``Trade`` is what a mempool
watcher decodes from such a transaction; ``simulate`` applies it to pool states with the exact
integer AMM math, so it agrees with the EVM to the wei, including when it reverts.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Literal

from devnet.spec import PoolInfo
from workbench.chain.abi import encode_call
from workbench.chain.market_spec import WETH, DeployedMarket
from workbench.errors import MarketError
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.market.uniswap_v3 import UniswapV3State

PoolState = UniswapV2Pool | UniswapV3State
Via = Literal["router02", "swaprouter", "executor"]
ZERO_ADDRESS = "0x" + "00" * 20

_GAS = {
    "router02": (90_000, 100_000),
    "swaprouter": (100_000, 140_000),
    "executor": (90_000, 130_000),
}
"""Gas limit per route: (base, per hop), with room for V3 tick crossings and cold storage."""


@dataclass(frozen=True, slots=True)
class TradeHop:
    pool: PoolInfo
    token_in: str  # symbols
    token_out: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """Sell ``amount_in`` along ``hops``; revert unless the final output is at least ``min_out``."""

    hops: tuple[TradeHop, ...]
    amount_in: int
    min_out: int
    via: Via

    @property
    def cyclic(self) -> bool:
        return self.hops[0].token_in == self.hops[-1].token_out

    @property
    def gas_limit(self) -> int:
        base, per_hop = _GAS[self.via]
        return base + per_hop * len(self.hops)


def run(
    hops: tuple[TradeHop, ...], amount_in: int, states: Mapping[str, PoolState]
) -> tuple[int, dict[str, PoolState]]:
    """The route's output and the pools it changed; raises ``MarketError`` where the contracts
    revert (a pool cannot trade the amount, or a hop would yield nothing)."""
    amount = amount_in
    changed: dict[str, PoolState] = {}
    for hop in hops:
        key = hop.pool.address
        state = changed[key] if key in changed else states[key]
        result = state.swap_exact_in(hop.pool.token(hop.token_in), amount)
        if result.amount_out <= 0:
            raise MarketError("a hop yields nothing: the pool reverts")
        after = result.pool_after
        assert isinstance(after, UniswapV2Pool | UniswapV3State)
        changed[key], amount = after, result.amount_out
    return amount, changed


def simulate(trade: Trade, states: MutableMapping[str, PoolState]) -> int | None:
    """Applies ``trade`` to ``states`` as the chain would: returns its output, or None (and
    leaves ``states`` as they were) when it reverts."""
    try:
        out, changed = run(trade.hops, trade.amount_in, states)
    except MarketError:
        return None
    if out < trade.min_out:
        return None
    states.update(changed)
    return out


def calldata(
    trade: Trade,
    market: DeployedMarket,
    *,
    recipient: str,
    deadline: int,
    executor: str | None = None,
    bid_bps: int = 0,
) -> tuple[str, bytes]:
    """(to, data) of the transaction that makes ``trade``."""
    tokens = [trade.hops[0].pool.token(trade.hops[0].token_in)]
    tokens += [hop.pool.token(hop.token_out) for hop in trade.hops]
    if trade.via == "router02":
        data = encode_call(
            "UniswapV2Router02",
            "swapExactTokensForTokens",
            [trade.amount_in, trade.min_out, tokens, recipient, deadline],
        )
        return market.v2_routers["uniswap"], data
    if trade.via == "swaprouter":
        path = bytes.fromhex(tokens[0][2:])
        for hop, token in zip(trade.hops, tokens[1:], strict=True):
            path += hop.pool.fee.to_bytes(3, "big") + bytes.fromhex(token[2:])
        params = (path, recipient, deadline, trade.amount_in, trade.min_out)
        assert market.v3_swap_router is not None
        return market.v3_swap_router, encode_call("SwapRouter", "exactInput", [params])
    if executor is None:
        raise MarketError("a trade via an Executor needs the executor's address")
    steps = [
        (
            1 if hop.pool.is_v3 else 0,
            hop.pool.address,
            hop.pool.token(hop.token_in),
            hop.pool.token(hop.token_out),
            hop.pool.fee,
            market.v3_factory if hop.pool.is_v3 else ZERO_ADDRESS,
            0,
            0,
        )
        for hop in trade.hops
    ]
    min_profit = trade.min_out - (trade.amount_in if trade.cyclic else 0)
    if bid_bps and tokens[-1] != market.token(WETH):
        raise MarketError("a coinbase bid needs a WETH-denominated cycle")
    data = encode_call(
        "Executor", "execute", [tokens[-1], trade.amount_in, min_profit, bid_bps, steps]
    )
    return executor, data
