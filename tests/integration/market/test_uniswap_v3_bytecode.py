"""Differential test: the V3 swap model against the real UniswapV3Pool and QuoterV2 bytecode.

Each hypothesis example builds a fresh pool (random fee tier, price and up to 12 positions
spread over several bitmap words, liquidity minted exactly through SwapProbe), then checks a
list of random swaps (both directions, exact input and output, with and without a price
limit, amounts up to 2**130 so that liquidity runs out) with eth_call against the pool itself
(amounts, price, tick and liquidity afterwards) and QuoterV2 (amounts and price); two of
them are then sent as transactions and the pool's state must equal the model's next state.
Cases: 12 pools x 40 swaps by default; 25 x 100 (2,500) with WORKBENCH_DEEP=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.chain.abi import decode_result, encode_call, encode_deploy
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.contracts import artifact
from workbench.chain.deploy import deploy_market
from workbench.chain.market_spec import WETH, DeployedMarket, MarketSpec, TokenSpec, V3PoolSpec
from workbench.chain.transact import Sender
from workbench.errors import MarketError
from workbench.market.pool import Swap
from workbench.market.uniswap_v3 import TickInfo, UniswapV3State
from workbench.market.uniswap_v3.swap import default_limit
from workbench.market.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MIN_SQRT_RATIO,
    get_sqrt_ratio_at_tick,
)
from workbench.rpc import RpcError

DEEP = bool(os.environ.get("WORKBENCH_DEEP"))
POOLS, SWAPS = (25, 100) if DEEP else (12, 40)
SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
FUNDS = 2**250
# A swap that runs out of liquidity walks every bitmap word up to the price limit (up to
# 3,466 for tick spacing 1), and QuoterV2 then walks them again to count crossed ticks:
# more gas than a block holds, so the calls get a larger allowance than Anvil's default.
CALL_GAS = 1_000_000_000


@dataclass
class Env:
    node: Anvil
    market: DeployedMarket
    sender: Sender
    probe: str


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    spec = MarketSpec(
        tokens=(TokenSpec(symbol="TKA"),),
        v3_pools=(V3PoolSpec(token_a=WETH, token_b="TKA", fee=3000, price_b_per_a=(1, 1)),),
        executor=False,
    )
    with Anvil(AnvilConfig(gas_limit=CALL_GAS)) as node:
        m = deploy_market(node.rpc, spec)
        sender = Sender(node.rpc, m.deployer)
        probe = sender.send(None, encode_deploy(artifact("SwapProbe"))).contract_address
        assert probe
        yield Env(node, m, sender, probe)


def new_pool(
    env: Env, fee: int, sqrt_price: int, positions: list[tuple[int, int, int]]
) -> UniswapV3State:
    """Deploys two tokens and a pool with exactly these positions; returns the model's state."""
    s, probe = env.sender, env.probe
    tokens = []
    for sym in ("T0", "T1"):
        addr = s.send(None, encode_deploy(artifact("TestERC20"), [sym, sym, 18])).contract_address
        assert addr
        s.send(addr, encode_call("TestERC20", "mint", [probe, FUNDS]))
        tokens.append(addr)
    t0, t1 = sorted(tokens, key=lambda a: int(a, 16))
    factory = env.market.v3_factory
    assert factory
    s.send(factory, encode_call("UniswapV3Factory", "createPool", [t0, t1, fee]))
    pool = decode_result(
        "UniswapV3Factory",
        "getPool",
        s.call(factory, encode_call("UniswapV3Factory", "getPool", [t0, t1, fee])),
    )[0]
    s.send(pool, encode_call("UniswapV3Pool", "initialize", [sqrt_price]))
    tick = decode_result(
        "UniswapV3Pool", "slot0", s.call(pool, encode_call("UniswapV3Pool", "slot0"))
    )[1]
    ticks: dict[int, list[int]] = {}
    liquidity = 0
    for lower, upper, amount in positions:
        s.send(probe, encode_call("SwapProbe", "v3Mint", [pool, lower, upper, amount]))
        for t, net in ((lower, amount), (upper, -amount)):
            gross_net = ticks.setdefault(t, [0, 0])
            gross_net[0] += amount
            gross_net[1] += net
        if lower <= tick < upper:
            liquidity += amount
    state = UniswapV3State(
        address=pool,
        token0=t0,
        token1=t1,
        fee=fee,
        tick_spacing=SPACING[fee],
        sqrt_price_x96=sqrt_price,
        tick=tick,
        liquidity=liquidity,
        ticks={t: TickInfo(g, n) for t, (g, n) in ticks.items()},
    )
    chain_liquidity = decode_result(
        "UniswapV3Pool", "liquidity", s.call(pool, encode_call("UniswapV3Pool", "liquidity"))
    )[0]
    assert chain_liquidity == liquidity
    return state


@st.composite
def pools(draw: Any) -> tuple[int, int, list[tuple[int, int, int]]]:
    fee = draw(st.sampled_from(sorted(SPACING)))
    spacing = SPACING[fee]
    center = draw(st.integers(min_value=-300_000, max_value=300_000)) // spacing
    tick0 = center * spacing
    low, high = get_sqrt_ratio_at_tick(tick0), get_sqrt_ratio_at_tick(tick0 + spacing)
    sqrt_price = draw(st.integers(min_value=low, max_value=high - 1))
    positions = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        a = center + draw(st.integers(min_value=-700, max_value=700))
        b = a + draw(st.integers(min_value=1, max_value=900))
        amount = draw(
            st.one_of(
                st.integers(1, 10**6), st.integers(10**15, 10**24), st.integers(10**24, 2**96)
            )
        )
        positions.append((a * spacing, b * spacing, amount))
    return fee, sqrt_price, positions


@st.composite
def swaps(draw: Any) -> tuple[bool, bool, int, str]:
    zfo = draw(st.booleans())
    exact_in = draw(st.booleans())
    amount = draw(
        st.one_of(st.integers(1, 10**6), st.integers(10**6, 10**22), st.integers(10**22, 2**130))
    )
    limit = draw(st.sampled_from(["none", "near", "far"]))
    return zfo, exact_in, amount, limit


def price_limit(state: UniswapV3State, zfo: bool, kind: str, frac: int) -> int | None:
    """None, or a valid limit between the price and the bound: near (within ~1%) or far."""
    if kind == "none":
        return None
    p = state.sqrt_price_x96
    bound = MIN_SQRT_RATIO + 1 if zfo else MAX_SQRT_RATIO - 1
    span = (p - bound) if zfo else (bound - p)
    step = span * frac // 10_000 if kind == "far" else max(1, p // 200 * frac // 10_000)
    limit = p - step if zfo else p + step
    return min(max(limit, MIN_SQRT_RATIO + 1), MAX_SQRT_RATIO - 1) if limit != p else None


def model(
    state: UniswapV3State, zfo: bool, exact_in: bool, amount: int, limit: int | None
) -> Swap | MarketError:
    token_in = state.token0 if zfo else state.token1
    try:
        fn = state.swap_exact_in if exact_in else state.swap_exact_out
        return fn(token_in, amount, limit)
    except MarketError as exc:
        return exc


def calls_for(
    env: Env, state: UniswapV3State, zfo: bool, exact_in: bool, amount: int, limit: int | None
) -> list:
    limit_or_default = default_limit(zfo) if limit is None else limit
    signed = amount if exact_in else -amount
    probe = encode_call("SwapProbe", "v3Swap", [state.address, zfo, signed, limit_or_default])
    token_in, token_out = (state.token0, state.token1) if zfo else (state.token1, state.token0)
    fn = "quoteExactInputSingle" if exact_in else "quoteExactOutputSingle"
    quote = encode_call(
        "QuoterV2", fn, [(token_in, token_out, amount, state.fee, limit_or_default)]
    )
    gas = hex(CALL_GAS)
    return [
        (
            "eth_call",
            [
                {"from": env.probe, "to": env.probe, "data": "0x" + probe.hex(), "gas": gas},
                "latest",
            ],
        ),
        (
            "eth_call",
            [{"to": env.market.v3_quoter, "data": "0x" + quote.hex(), "gas": gas}, "latest"],
        ),
    ]


def check(
    state: UniswapV3State,
    case: tuple,
    expected: Swap | MarketError,
    pool_reply: Any,
    quoter_reply: Any,
) -> None:
    zfo, exact_in, amount, limit = case
    where = f"pool fee={state.fee} tick={state.tick} L={state.liquidity}, swap zfo={zfo} exact_in={exact_in} amount={amount} limit={limit}"
    if isinstance(expected, MarketError):
        assert isinstance(pool_reply, RpcError), (
            f"model refused ({expected}) but the pool swapped: {where}"
        )
        return
    assert not isinstance(pool_reply, RpcError), (
        f"pool reverted ({pool_reply}) but the model swapped: {where}"
    )
    a0, a1, sqrt_after, tick_after, liq_after = decode_result("SwapProbe", "v3Swap", pool_reply)
    paid, got = (a0, -a1) if zfo else (a1, -a0)
    after = expected.pool_after
    assert isinstance(after, UniswapV3State)
    assert (paid, got) == (expected.amount_in, expected.amount_out), where
    assert (sqrt_after, tick_after, liq_after) == (
        after.sqrt_price_x96,
        after.tick,
        after.liquidity,
    ), where
    filled = expected.amount_in if exact_in else expected.amount_out
    assert expected.partial == (filled != amount), where
    if isinstance(quoter_reply, RpcError):  # QuoterV2 refuses swaps that move no tokens
        assert paid == 0 and got == 0, f"quoter reverted ({quoter_reply}): {where}"
        return
    fn = "quoteExactInputSingle" if exact_in else "quoteExactOutputSingle"
    quoted, quoted_price, _, _ = decode_result("QuoterV2", fn, quoter_reply)
    assert quoted == (got if exact_in else paid), where
    assert quoted_price == after.sqrt_price_x96, where


@settings(
    max_examples=POOLS,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    spec=pools(),
    cases=st.lists(swaps(), min_size=SWAPS, max_size=SWAPS),
    fracs=st.lists(st.integers(1, 9_999), min_size=SWAPS, max_size=SWAPS),
)
def test_v3_model_equals_pool_and_quoter(
    env: Env, spec: tuple, cases: list, fracs: list[int]
) -> None:
    fee, sqrt_price, positions = spec
    state = new_pool(env, fee, sqrt_price, positions)
    real_swaps = {SWAPS // 2, SWAPS - 1}  # sent as transactions: the model's next state must hold
    for i, ((zfo, exact_in, amount, kind), frac) in enumerate(zip(cases, fracs, strict=True)):
        limit = price_limit(state, zfo, kind, frac)
        case = (zfo, exact_in, amount, limit)
        expected = model(state, *case)
        pool_reply, quoter_reply = env.node.rpc.batch(calls_for(env, state, *case))
        check(state, case, expected, pool_reply, quoter_reply)
        if (
            i in real_swaps
            and isinstance(expected, Swap)
            and (expected.amount_in or expected.amount_out)
        ):
            signed = amount if exact_in else -amount
            data = encode_call(
                "SwapProbe",
                "v3Swap",
                [state.address, zfo, signed, default_limit(zfo) if limit is None else limit],
            )
            env.sender.send(env.probe, data)
            slot0 = decode_result(
                "UniswapV3Pool",
                "slot0",
                env.sender.call(state.address, encode_call("UniswapV3Pool", "slot0")),
            )
            after = expected.pool_after
            assert isinstance(after, UniswapV3State)
            assert (slot0[0], slot0[1]) == (after.sqrt_price_x96, after.tick)
            state = after
