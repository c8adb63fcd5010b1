"""The default devnet market: seven tokens, two V2 DEXes (0.30% Uniswap, 0.25% fork) with 13
pairs, and eight Uniswap V3 pools over four fee tiers with concentrated positions.

Depths are given in USD per side at the reference prices below and turned into base units
exactly (integers); V3 ranges are tick widths around the pool's initial tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from workbench.chain.deploy import sqrt_price_x96
from workbench.chain.market_spec import (
    V3_TICK_SPACING,
    DeployedMarket,
    MarketSpec,
    TokenSpec,
    V2DexSpec,
    V2PairSpec,
    V3PoolSpec,
    V3PositionSpec,
    v2_pair_key,
    v3_pool_key,
)
from workbench.market.uniswap_v3.tick_math import MAX_TICK, get_tick_at_sqrt_ratio

USD_PRICE = {"WETH": 3000, "USDC": 1, "USDT": 1, "DAI": 1, "WBTC": 60_000, "LINK": 15, "UNI": 8}
DECIMALS = {"WETH": 18, "USDC": 6, "USDT": 6, "DAI": 18, "WBTC": 8, "LINK": 18, "UNI": 18}
SYMBOLS = tuple(USD_PRICE)

FACTOR = {"WETH": "WETH", "USDC": "USD", "USDT": "USD", "DAI": "USD"}
"""The reference-price process each token follows (stablecoins share the dollar's)."""
VOL_TICKS = {"USD": 8, "WBTC": 6, "LINK": 15, "UNI": 20}
"""Standard deviation of each process's log price per block, in ticks (1 tick = 1 bp)."""

DEXES = (V2DexSpec(name="uniswap"), V2DexSpec(name="forkswap", fee_pips=2500))
_V2_PAIRS = (  # dex, token a, token b, USD per side
    ("uniswap", "WETH", "USDC", 3_000_000),
    ("uniswap", "WETH", "USDT", 1_500_000),
    ("uniswap", "WETH", "DAI", 1_000_000),
    ("uniswap", "WETH", "WBTC", 2_000_000),
    ("uniswap", "WETH", "LINK", 500_000),
    ("uniswap", "WETH", "UNI", 400_000),
    ("uniswap", "USDC", "USDT", 1_000_000),
    ("uniswap", "LINK", "UNI", 150_000),
    ("forkswap", "WETH", "USDC", 1_500_000),
    ("forkswap", "WETH", "WBTC", 800_000),
    ("forkswap", "WETH", "LINK", 300_000),
    ("forkswap", "WETH", "UNI", 300_000),
    ("forkswap", "USDC", "DAI", 500_000),
)
_FULL = 0
_V3_POOLS = (  # token a, token b, fee, ((half width in ticks or _FULL, USD per side), ...)
    ("WETH", "USDC", 500, ((_FULL, 1_000_000), (500, 2_000_000), (100, 1_000_000))),
    ("WETH", "USDC", 3000, ((_FULL, 1_000_000), (2000, 1_000_000))),
    ("WETH", "USDT", 500, ((_FULL, 500_000), (500, 1_000_000))),
    ("WETH", "WBTC", 3000, ((_FULL, 1_000_000), (1000, 1_000_000))),
    ("WETH", "LINK", 3000, ((_FULL, 300_000), (1500, 300_000))),
    ("WETH", "UNI", 10000, ((_FULL, 200_000), (3000, 200_000))),
    ("USDC", "USDT", 100, ((50, 2_000_000),)),
    ("DAI", "USDC", 100, ((50, 1_000_000),)),
)


def units(symbol: str, usd: int) -> int:
    """``usd`` dollars of ``symbol`` in its base units at the initial reference price."""
    return usd * 10 ** DECIMALS[symbol] // USD_PRICE[symbol]


def initial_tick(a: str, b: str) -> int:
    """The tick of the initial price of ``b`` per ``a`` (base units), exactly."""
    amount_b, amount_a = _price_b_per_a(a, b)
    return get_tick_at_sqrt_ratio(sqrt_price_x96(amount_b, amount_a))


def _price_b_per_a(a: str, b: str) -> tuple[int, int]:
    return 10 ** DECIMALS[b] * USD_PRICE[a], 10 ** DECIMALS[a] * USD_PRICE[b]


def _position(a: str, b: str, fee: int, half_width: int, usd: int) -> V3PositionSpec:
    spacing = V3_TICK_SPACING[fee]
    if half_width == _FULL:
        lower, upper = -(MAX_TICK // spacing) * spacing, (MAX_TICK // spacing) * spacing
    else:
        centre = initial_tick(a, b)
        lower = (centre - half_width) // spacing * spacing
        upper = -((-(centre + half_width)) // spacing) * spacing
    return V3PositionSpec(
        tick_lower=lower, tick_upper=upper, amount_a=units(a, usd), amount_b=units(b, usd)
    )


def default_market() -> MarketSpec:
    """The market every default devnet deploys (no shared Executor: each agent deploys its own)."""
    return MarketSpec(
        tokens=tuple(TokenSpec(symbol=s, decimals=DECIMALS[s]) for s in SYMBOLS if s != "WETH"),
        v2_dexes=DEXES,
        v2_pairs=tuple(
            V2PairSpec(dex=d, token_a=a, token_b=b, reserve_a=units(a, u), reserve_b=units(b, u))
            for d, a, b, u in _V2_PAIRS
        ),
        v3_pools=tuple(
            V3PoolSpec(
                token_a=a,
                token_b=b,
                fee=fee,
                price_b_per_a=_price_b_per_a(a, b),
                positions=tuple(_position(a, b, fee, w, u) for w, u in positions),
            )
            for a, b, fee, positions in _V3_POOLS
        ),
        executor=False,
    )


Venue = Literal["uniswap", "forkswap", "v3"]


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """A deployed pool: where it trades and what it charges (fee in pips)."""

    address: str
    venue: Venue
    symbol_a: str
    symbol_b: str
    fee: int
    token_a: str  # addresses, checksummed
    token_b: str

    @property
    def is_v3(self) -> bool:
        return self.venue == "v3"

    def token(self, symbol: str) -> str:
        """The address of ``symbol``, one of the pool's two tokens."""
        if symbol not in (self.symbol_a, self.symbol_b):
            raise KeyError(f"{symbol} is not in pool {self.symbol_a}/{self.symbol_b}")
        return self.token_a if symbol == self.symbol_a else self.token_b

    def other(self, symbol: str) -> str:
        return self.symbol_b if symbol == self.symbol_a else self.symbol_a


def pool_registry(spec: MarketSpec, market: DeployedMarket) -> tuple[PoolInfo, ...]:
    """Every pool of ``spec`` with its deployed address, V2 pairs first, in spec order."""
    fees = {d.name: d.fee_pips for d in spec.v2_dexes}
    v2 = [
        PoolInfo(
            market.v2_pairs[v2_pair_key(p.dex, p.token_a, p.token_b)],
            "uniswap" if p.dex == "uniswap" else "forkswap",
            p.token_a,
            p.token_b,
            fees[p.dex],
            market.token(p.token_a),
            market.token(p.token_b),
        )
        for p in spec.v2_pairs
    ]
    v3 = [
        PoolInfo(
            market.v3_pools[v3_pool_key(p.token_a, p.token_b, p.fee)],
            "v3",
            p.token_a,
            p.token_b,
            p.fee,
            market.token(p.token_a),
            market.token(p.token_b),
        )
        for p in spec.v3_pools
    ]
    return (*v2, *v3)
