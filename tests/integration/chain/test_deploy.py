"""deploy_market on a real Anvil: reserves, prices, fees and token behaviours as specified."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.conftest import ARB_SPEC, E18
from workbench.chain.abi import decode_result, encode_call
from workbench.chain.anvil import Anvil
from workbench.chain.deploy import sqrt_price_x96
from workbench.chain.market_spec import DeployedMarket, MarketSpec, V2PairSpec, V3PoolSpec
from workbench.chain.transact import Sender
from workbench.errors import DeploymentError


def view(s: Sender, to: str, contract: str, fn: str, *args: object) -> tuple:
    return decode_result(contract, fn, s.call(to, encode_call(contract, fn, list(args))))


def test_v2_pairs_hold_the_specified_reserves(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    s = Sender(node.rpc, m.deployer)
    for spec in ARB_SPEC.v2_pairs:
        pair = m.v2_pairs[f"{spec.dex}:{spec.token_a}/{spec.token_b}"]
        r0, r1, _ = view(s, pair, "UniswapV2Pair", "getReserves")
        a_first = int(m.token(spec.token_a), 16) < int(m.token(spec.token_b), 16)
        assert (r0, r1) == (
            (spec.reserve_a, spec.reserve_b) if a_first else (spec.reserve_b, spec.reserve_a)
        )
    # The Uniswap DEX runs the npm bytecode (Router02's init code hash finds its pairs).
    router = m.v2_routers["uniswap"]
    out = view(s, router, "UniswapV2Router02", "getAmountsOut", E18, [m.weth, m.token("TKA")])[0]
    assert out[1] == E18 * 997 * 200_000 * E18 // (100 * E18 * 1000 + E18 * 997)


def test_fork_pair_charges_its_own_fee(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    s = Sender(node.rpc, m.deployer)
    pair = m.v2_pairs["forkswap:WETH/TKA"]
    assert view(s, pair, "V2ForkPair", "feePips") == (2500,)
    weth_first = int(m.weth, 16) < int(m.token("TKA"), 16)
    s.send(m.weth, encode_call("WETH9", "deposit"), value=E18)
    s.send(m.weth, encode_call("WETH9", "transfer", [pair, E18]))
    r_in, r_out = 100 * E18, 210_000 * E18
    best = E18 * 997_500 * r_out // (r_in * 1_000_000 + E18 * 997_500)
    too_much = (0, best + 1) if weth_first else (best + 1, 0)
    with pytest.raises(DeploymentError):  # one wei beyond the 0.25%-fee formula breaks K
        s.send(pair, encode_call("V2ForkPair", "swap", [*too_much, m.deployer, b""]), gas=500_000)
    exact = (0, best) if weth_first else (best, 0)
    s.send(pair, encode_call("V2ForkPair", "swap", [*exact, m.deployer, b""]))


def test_v3_pool_price_and_liquidity(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    s = Sender(node.rpc, m.deployer)
    pool = m.v3_pools["WETH/TKA/3000"]
    sqrt_p = view(s, pool, "UniswapV3Pool", "slot0")[0]
    weth_first = int(m.weth, 16) < int(m.token("TKA"), 16)
    assert sqrt_p == (sqrt_price_x96(2050, 1) if weth_first else sqrt_price_x96(1, 2050))
    assert view(s, pool, "UniswapV3Pool", "liquidity")[0] > 0
    assert view(s, pool, "UniswapV3Pool", "fee") == (3000,)
    # Both positions are live: the narrow one adds liquidity around the current price.
    assert view(
        s, m.v3_position_manager, "NonfungiblePositionManager", "balanceOf", m.deployer
    ) == (2,)


def test_honeypot_can_be_bought_not_sold(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    buyer = Sender(node.rpc, node.rpc.call("eth_accounts")[3])
    router, honey = m.v2_routers["uniswap"], m.token("HONEY")
    buy = encode_call(
        "UniswapV2Router02", "swapExactETHForTokens", [0, [m.weth, honey], buyer.account, 2**40]
    )
    buyer.send(router, buy, value=E18 // 10)
    got = view(buyer, honey, "TestERC20", "balanceOf", buyer.account)[0]
    assert got > 0
    buyer.send(honey, encode_call("TestERC20", "approve", [router, got]))
    sell = encode_call(
        "UniswapV2Router02",
        "swapExactTokensForETH",
        [got, 0, [honey, m.weth], buyer.account, 2**40],
    )
    with pytest.raises(DeploymentError):
        buyer.send(router, sell, gas=500_000)


def test_fee_on_transfer_token_burns_its_fee(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    s = Sender(node.rpc, m.deployer)
    fot, to = m.token("FOT"), "0x00000000000000000000000000000000000000f0"
    s.send(fot, encode_call("TestERC20", "mint", [m.deployer, 1000]))
    s.send(fot, encode_call("TestERC20", "transfer", [to, 1000]))
    assert view(s, fot, "TestERC20", "balanceOf", to) == (990,)


def test_specs_are_validated() -> None:
    with pytest.raises(ValidationError, match="unknown token"):
        MarketSpec(
            v3_pools=(V3PoolSpec(token_a="WETH", token_b="NOPE", fee=500, price_b_per_a=(1, 1)),)
        )
    with pytest.raises(ValidationError, match="unknown dex"):
        MarketSpec(
            v2_pairs=(
                V2PairSpec(
                    dex="x", token_a="WETH", token_b="WETH", reserve_a=10**6, reserve_b=10**6
                ),
            )
        )
    with pytest.raises(ValidationError, match="multiples of 60"):
        V3PoolSpec.model_validate(
            {
                "token_a": "A",
                "token_b": "B",
                "fee": 3000,
                "price_b_per_a": (1, 1),
                "positions": [{"tick_lower": -50, "tick_upper": 60, "amount_a": 1, "amount_b": 1}],
            }
        )
    with pytest.raises(ValidationError, match="fee tier"):
        V3PoolSpec(token_a="A", token_b="B", fee=123, price_b_per_a=(1, 1))


def test_deployed_market_round_trips(market: tuple[Anvil, DeployedMarket], tmp_path) -> None:
    _, m = market
    m.save(tmp_path / "market.json")
    assert DeployedMarket.load(tmp_path / "market.json") == m
