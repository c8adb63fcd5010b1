"""A small description of a DEX market to deploy on Anvil, and the addresses it deployed to.

Amounts are integers in each token's base units. Prices and tick ranges are given for the
pair as written (``token_b`` per ``token_a``); the deployer orients them to the pool's
sorted token0/token1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

WETH = "WETH"
V3_TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
"""Fee tiers enabled in UniswapV3Factory (100 is enabled by the deployer) and their spacing."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TokenSpec(_Frozen):
    symbol: str
    decimals: int = Field(18, ge=0, le=36)
    kind: Literal["plain", "fee_on_transfer", "honeypot"] = "plain"
    fee_bps: int = Field(0, ge=0, le=10_000, description="transfer fee, for fee_on_transfer")


class V2DexSpec(_Frozen):
    """A Uniswap-V2-style DEX. ``implementation`` 'uniswap' is the npm UniswapV2 bytecode
    (0.30% only); 'fork' is our V2ForkFactory with any fee. Default: uniswap for 3000."""

    name: str
    fee_pips: int = Field(3000, ge=0, lt=1_000_000)
    implementation: Literal["uniswap", "fork"] | None = None

    @property
    def impl(self) -> str:
        return self.implementation or ("uniswap" if self.fee_pips == 3000 else "fork")

    @model_validator(mode="after")
    def _uniswap_is_30_bps(self) -> V2DexSpec:
        if self.implementation == "uniswap" and self.fee_pips != 3000:
            raise ValueError(
                f"dex {self.name}: the Uniswap V2 bytecode charges 3000 pips; use implementation='fork'"
            )
        return self


class V2PairSpec(_Frozen):
    dex: str
    token_a: str
    token_b: str
    reserve_a: int = Field(gt=1000)
    reserve_b: int = Field(gt=1000)


class V3PositionSpec(_Frozen):
    """Liquidity over [tick_lower, tick_upper) of price(token_b per token_a), up to these amounts."""

    tick_lower: int
    tick_upper: int
    amount_a: int = Field(ge=0)
    amount_b: int = Field(ge=0)


class V3PoolSpec(_Frozen):
    token_a: str
    token_b: str
    fee: int
    price_b_per_a: tuple[int, int] = Field(description="(amount_b, amount_a) in base units")
    positions: tuple[V3PositionSpec, ...] = ()

    @model_validator(mode="after")
    def _valid(self) -> V3PoolSpec:
        if self.fee not in V3_TICK_SPACING:
            raise ValueError(
                f"V3 fee {self.fee} is not a fee tier; use one of {sorted(V3_TICK_SPACING)}"
            )
        if min(self.price_b_per_a) <= 0:
            raise ValueError("price_b_per_a must be two positive integers (amount_b, amount_a)")
        spacing = V3_TICK_SPACING[self.fee]
        for p in self.positions:
            if p.tick_lower >= p.tick_upper or p.tick_lower % spacing or p.tick_upper % spacing:
                raise ValueError(
                    f"position [{p.tick_lower}, {p.tick_upper}) must be increasing multiples of {spacing}"
                )
        return self


class MarketSpec(_Frozen):
    """Tokens (WETH is always deployed), V2 DEXes and pairs, V3 pools, and the Executor."""

    tokens: tuple[TokenSpec, ...] = ()
    v2_dexes: tuple[V2DexSpec, ...] = ()
    v2_pairs: tuple[V2PairSpec, ...] = ()
    v3_pools: tuple[V3PoolSpec, ...] = ()
    executor: bool = True
    executor_funding: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> MarketSpec:
        symbols = [t.symbol for t in self.tokens]
        if WETH in symbols:
            raise ValueError("WETH is always deployed (WETH9); do not list it under tokens")
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"token symbols must be unique: {symbols}")
        known = {*symbols, WETH}
        kinds = {t.symbol: t.kind for t in self.tokens}
        dexes = {d.name for d in self.v2_dexes}
        for p in self.v2_pairs:
            if p.dex not in dexes:
                raise ValueError(f"pair {p.token_a}/{p.token_b} names unknown dex {p.dex!r}")
        pools: list[tuple[str, str]] = [(p.token_a, p.token_b) for p in self.v2_pairs]
        pools += [(p.token_a, p.token_b) for p in self.v3_pools]
        for token_a, token_b in pools:
            for sym in (token_a, token_b):
                if sym not in known:
                    raise ValueError(f"unknown token {sym!r}; declare it under tokens")
            if token_a == token_b:
                raise ValueError(f"a pool needs two different tokens, got {token_a} twice")
        for pool in self.v3_pools:
            for sym in (pool.token_a, pool.token_b):
                if kinds.get(sym) == "fee_on_transfer":
                    raise ValueError(
                        f"{sym} charges a transfer fee, which Uniswap V3 pools do not support"
                    )
        for sym in self.executor_funding:
            if sym not in known:
                raise ValueError(f"executor_funding names unknown token {sym!r}")
        return self


MARKET_FILE = "market.json"
"""A dataset's market (a ``DeployedMarket`` as JSON): the pools its replay watches."""


class DeployedMarket(_Frozen):
    """Addresses of everything ``deploy_market`` created, or of a real chain's pools found by
    ``workbench market discover`` (``workbench.market.discover``)."""

    chain_id: int
    deployer: str
    weth: str
    tokens: dict[str, str]
    v2_factories: dict[str, str]
    v2_routers: dict[str, str]
    v2_pairs: dict[str, str] = Field(description="'dex:A/B' -> pair address")
    v3_factory: str | None = None
    v3_position_manager: str | None = None
    v3_swap_router: str | None = None
    v3_quoter: str | None = None
    v3_tick_lens: str | None = None
    v3_pools: dict[str, str] = Field(default_factory=dict, description="'A/B/fee' -> pool")
    executor: str | None = None
    executor_owner: str | None = None
    decimals: dict[str, int] = Field(default_factory=dict, description="symbol -> decimals")
    block: int | None = Field(None, description="the block a discovered market was read at")

    def token(self, symbol: str) -> str:
        return self.weth if symbol == WETH else self.tokens[symbol]

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> DeployedMarket:
        return cls.model_validate(json.loads(path.read_text()))


def v2_pair_key(dex: str, token_a: str, token_b: str) -> str:
    return f"{dex}:{token_a}/{token_b}"


def v3_pool_key(token_a: str, token_b: str, fee: int) -> str:
    return f"{token_a}/{token_b}/{fee}"
