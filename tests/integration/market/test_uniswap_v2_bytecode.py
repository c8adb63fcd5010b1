"""Differential test: the V2 math against the real pair bytecode on Anvil.

Each case sets the pair's reserves and balances with eth_call state overrides and asks the
pair (through SwapProbe) for the formula's output, which must pass its K check, and for one
wei more, which must fail; Router02's getAmountsOut/getAmountsIn must equal the formulas.
Uniswap's own bytecode is the 0.30% case; V2ForkPair covers other fees. Examples: 300 per
run by default, 2,500 with WORKBENCH_DEEP=1 (`make test-deep`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.chain.abi import decode_result, encode_call, encode_deploy
from workbench.chain.anvil import Anvil
from workbench.chain.contracts import artifact
from workbench.chain.deploy import deploy_market
from workbench.chain.market_spec import MarketSpec, TokenSpec, V2DexSpec, V2PairSpec
from workbench.chain.transact import Sender
from workbench.errors import MarketError
from workbench.market.uniswap_v2 import MAX_RESERVE, UniswapV2Pool, get_amount_in
from workbench.rpc import RpcError

EXAMPLES = 2500 if os.environ.get("WORKBENCH_DEEP") else 300
DEXES = {"uniswap": 3000, "fork500": 500, "fork2500": 2500, "fork10000": 10000}
RESERVE_SLOT = {"uniswap": 8, "fork": 0}  # packed reserve0 | reserve1 << 112 | timestamp << 224
BALANCE_SLOT = 3  # balanceOf mapping in TestERC20


@dataclass(frozen=True)
class Env:
    node: Anvil
    probe: str
    pairs: dict[str, str]
    router: str
    token0: str
    token1: str


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    spec = MarketSpec(
        tokens=(TokenSpec(symbol="TKA"), TokenSpec(symbol="TKB")),
        v2_dexes=tuple(
            V2DexSpec(name=n, fee_pips=f, implementation="uniswap" if n == "uniswap" else "fork")
            for n, f in DEXES.items()
        ),
        v2_pairs=tuple(
            V2PairSpec(dex=n, token_a="TKA", token_b="TKB", reserve_a=10**21, reserve_b=10**21)
            for n in DEXES
        ),
        executor=False,
    )
    with Anvil() as node:
        m = deploy_market(node.rpc, spec)
        probe = (
            Sender(node.rpc, m.deployer)
            .send(None, encode_deploy(artifact("SwapProbe")))
            .contract_address
        )
        assert probe
        t0, t1 = sorted([m.token("TKA"), m.token("TKB")], key=lambda a: int(a, 16))
        pairs = {n: m.v2_pairs[f"{n}:TKA/TKB"] for n in DEXES}
        yield Env(node, probe, pairs, m.v2_routers["uniswap"], t0, t1)


def balance_slot(holder: str) -> str:
    return (
        "0x"
        + keccak(bytes.fromhex(holder[2:].rjust(64, "0")) + BALANCE_SLOT.to_bytes(32, "big")).hex()
    )


def word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def overrides(env: Env, dex: str, r0: int, r1: int, zfo: bool, probe_funds: int) -> dict:
    slot = RESERVE_SLOT["uniswap" if dex == "uniswap" else "fork"]
    pair = env.pairs[dex]
    token_in = env.token0 if zfo else env.token1
    diffs: dict[str, dict[str, str]] = {env.token0: {}, env.token1: {}}
    diffs[env.token0][balance_slot(pair)] = word(r0)
    diffs[env.token1][balance_slot(pair)] = word(r1)
    diffs[token_in][balance_slot(env.probe)] = word(probe_funds)
    state = {addr: {"stateDiff": d} for addr, d in diffs.items()}
    state[pair] = {"stateDiff": {word(slot): word(r0 | r1 << 112 | 1 << 224)}}
    return state


def probe_call(env: Env, zfo: bool, dex: str, amount_in: int, amount_out: int) -> dict:
    out = (0, amount_out) if zfo else (amount_out, 0)
    data = encode_call(
        "SwapProbe", "v2Swap", [env.pairs[dex], env.token0 if zfo else env.token1, amount_in, *out]
    )
    return {"from": env.probe, "to": env.probe, "data": "0x" + data.hex()}


reserves = st.integers(min_value=10**3, max_value=MAX_RESERVE // 2)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    dex=st.sampled_from(sorted(DEXES)),
    r0=reserves,
    r1=reserves,
    zfo=st.booleans(),
    amount_in=st.integers(min_value=1, max_value=MAX_RESERVE // 2),
    out_share=st.integers(min_value=1, max_value=999_999),
)
def test_v2_math_equals_the_pair(
    env: Env, dex: str, r0: int, r1: int, zfo: bool, amount_in: int, out_share: int
) -> None:
    fee = DEXES[dex]
    pool = UniswapV2Pool(
        address=env.pairs[dex],
        token0=env.token0,
        token1=env.token1,
        reserve0=r0,
        reserve1=r1,
        fee=fee,
    )
    token_in, token_out = (env.token0, env.token1) if zfo else (env.token1, env.token0)
    r_in, r_out = (r0, r1) if zfo else (r1, r0)
    calls = []
    out = pool.swap_exact_in(token_in, amount_in).amount_out
    state = overrides(env, dex, r0, r1, zfo, amount_in)
    if out > 0:
        calls.append(("ok", [probe_call(env, zfo, dex, amount_in, out), "latest", state]))
    calls.append(("fails", [probe_call(env, zfo, dex, amount_in, out + 1), "latest", state]))
    # Exact output: the Router02 formula's input buys the output (or both refuse: uint112).
    want = max(1, r_out * out_share // 1_000_000)
    need = get_amount_in(want, r_in, r_out, fee)
    if r_in + need > MAX_RESERVE:
        with pytest.raises(MarketError, match="uint112"):
            pool.swap_exact_out(token_in, want)
        calls.append(
            (
                "fails",
                [
                    probe_call(env, zfo, dex, need, want),
                    "latest",
                    overrides(env, dex, r0, r1, zfo, need),
                ],
            )
        )
    else:
        assert pool.swap_exact_out(token_in, want).amount_in == need
        assert pool.swap_exact_in(token_in, need).amount_out >= want
        calls.append(
            (
                "ok",
                [
                    probe_call(env, zfo, dex, need, want),
                    "latest",
                    overrides(env, dex, r0, r1, zfo, need),
                ],
            )
        )
    if dex == "uniswap":
        path = [token_in, token_out]
        for fn, amount, expected in (
            ("getAmountsOut", amount_in, out),
            ("getAmountsIn", want, need),
        ):
            if fn == "getAmountsIn" and r_in + need > MAX_RESERVE:
                continue
            data = encode_call("UniswapV2Router02", fn, [amount, path])
            calls.append(
                (
                    f"{fn}={expected}",
                    [{"to": env.router, "data": "0x" + data.hex()}, "latest", state],
                )
            )
    results = env.node.rpc.batch([("eth_call", params) for _, params in calls])
    for (expect, _), result in zip(calls, results, strict=True):
        if expect == "ok":
            assert not isinstance(result, RpcError), f"the pair refused the model's swap: {result}"
        elif expect == "fails":
            assert isinstance(result, RpcError), (
                "the pair paid one wei more than the model's maximum"
            )
        else:
            fn, expected = expect.split("=")
            assert not isinstance(result, RpcError), result
            amounts = decode_result("UniswapV2Router02", fn, result)[0]
            assert (amounts[-1] if fn == "getAmountsOut" else amounts[0]) == int(expected)
    assert r_in + amount_in <= MAX_RESERVE


def test_overflowing_reserves_are_refused_like_the_pair(env: Env) -> None:
    pool = UniswapV2Pool(
        address=env.pairs["uniswap"],
        token0=env.token0,
        token1=env.token1,
        reserve0=MAX_RESERVE - 10,
        reserve1=10**18,
    )
    with pytest.raises(MarketError, match="uint112"):
        pool.swap_exact_in(env.token0, 11)
    result = env.node.rpc.batch(
        [
            (
                "eth_call",
                [
                    probe_call(env, True, "uniswap", 11, 1),
                    "latest",
                    overrides(env, "uniswap", MAX_RESERVE - 10, 10**18, True, 11),
                ],
            )
        ]
    )[0]
    assert isinstance(result, RpcError)
