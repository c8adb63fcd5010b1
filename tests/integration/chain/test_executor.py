"""Executor.sol on a real Anvil against the real Uniswap V2/V3 bytecode and our V2 fork."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.chain.abi import custom_error_selector, decode_result, encode_call
from workbench.chain.anvil import Anvil
from workbench.chain.market_spec import DeployedMarket
from workbench.chain.transact import Sender, revert_data
from workbench.errors import DeploymentError
from workbench.rpc import RpcError

E18 = 10**18
V2, V3 = 0, 1
ZERO = "0x" + "00" * 20


def v2_out(amount_in: int, reserve_in: int, reserve_out: int, fee_pips: int) -> int:
    with_fee = amount_in * (1_000_000 - fee_pips)
    return with_fee * reserve_out // (reserve_in * 1_000_000 + with_fee)


def reserves(s: Sender, pair: str, token_in: str, token_out: str) -> tuple[int, int]:
    r0, r1, _ = decode_result(
        "UniswapV2Pair", "getReserves", s.call(pair, encode_call("UniswapV2Pair", "getReserves"))
    )
    return (r0, r1) if int(token_in, 16) < int(token_out, 16) else (r1, r0)


def balance(s: Sender, token: str, who: str) -> int:
    return decode_result(
        "TestERC20", "balanceOf", s.call(token, encode_call("TestERC20", "balanceOf", [who]))
    )[0]


def quote_v3(
    s: Sender, m: DeployedMarket, token_in: str, token_out: str, amount: int, fee: int
) -> int:
    data = encode_call("QuoterV2", "quoteExactInputSingle", [(token_in, token_out, amount, fee, 0)])
    assert m.v3_quoter
    return decode_result("QuoterV2", "quoteExactInputSingle", s.call(m.v3_quoter, data))[0]


def v2_step(
    m: DeployedMarket, key: str, tin: str, tout: str, fee: int, min_out: int = 0
) -> tuple[Any, ...]:
    return (V2, m.v2_pairs[key], m.token(tin), m.token(tout), fee, ZERO, 0, min_out)


def v3_step(
    m: DeployedMarket, tin: str, tout: str, fee: int, pool: str | None = None
) -> tuple[Any, ...]:
    pool = pool or m.v3_pools[f"WETH/TKA/{fee}"]
    return (V3, pool, m.token(tin), m.token(tout), fee, m.v3_factory, 0, 0)


def execute(
    m: DeployedMarket, amount_in: int, steps: list[Any], min_profit: int = 0, bid_bps: int = 0
) -> bytes:
    return encode_call("Executor", "execute", [m.weth, amount_in, min_profit, bid_bps, steps])


def expect_revert(s: Sender, to: str, data: bytes, error: str) -> bytes:
    with pytest.raises(RpcError) as info:
        s.call(to, data)
    raw = revert_data(info.value)
    assert raw[:4] == custom_error_selector("Executor", error), (
        f"expected {error}, got 0x{raw.hex()}"
    )
    return raw


@pytest.fixture
def owner(market: tuple[Anvil, DeployedMarket]) -> Sender:
    node, m = market
    assert m.executor_owner
    return Sender(node.rpc, m.executor_owner)


def test_v2_v2_cycle_profit_is_exact(market: tuple[Anvil, DeployedMarket], owner: Sender) -> None:
    _, m = market
    assert m.executor
    amount = E18
    fork = "forkswap:WETH/TKA"
    uni = "uniswap:WETH/TKA"
    tka = m.token("TKA")
    got_tka = v2_out(amount, *reserves(owner, m.v2_pairs[fork], m.weth, tka), 2500)
    got_weth = v2_out(got_tka, *reserves(owner, m.v2_pairs[uni], tka, m.weth), 3000)
    expected = got_weth - amount
    assert expected > 0
    steps = [v2_step(m, fork, "WETH", "TKA", 2500), v2_step(m, uni, "TKA", "WETH", 3000)]
    data = execute(m, amount, steps, min_profit=expected)
    assert decode_result("Executor", "execute", owner.call(m.executor, data)) == (expected, 0)
    before = balance(owner, m.weth, m.executor)
    owner.send(m.executor, data)
    assert balance(owner, m.weth, m.executor) - before == expected
    # One wei more than the exact profit must revert.
    expect_revert(
        owner, m.executor, execute(m, amount, steps, min_profit=expected + 1), "Unprofitable"
    )


@pytest.mark.parametrize("v3_first", [True, False])
def test_v2_v3_cycles_match_quoter_and_v2_formula(
    market: tuple[Anvil, DeployedMarket], owner: Sender, v3_first: bool
) -> None:
    _, m = market
    assert m.executor
    amount = E18 // 2
    tka = m.token("TKA")
    if v3_first:  # buy TKA on V3 (~2050/WETH), sell on Uniswap V2 (2000/WETH)
        mid = quote_v3(owner, m, m.weth, tka, amount, 3000)
        out = v2_out(mid, *reserves(owner, m.v2_pairs["uniswap:WETH/TKA"], tka, m.weth), 3000)
        steps = [
            v3_step(m, "WETH", "TKA", 3000),
            v2_step(m, "uniswap:WETH/TKA", "TKA", "WETH", 3000),
        ]
    else:  # buy TKA on the fork (2100/WETH), sell on V3 (~2050/WETH)
        mid = v2_out(amount, *reserves(owner, m.v2_pairs["forkswap:WETH/TKA"], m.weth, tka), 2500)
        out = quote_v3(owner, m, tka, m.weth, mid, 3000)
        steps = [
            v2_step(m, "forkswap:WETH/TKA", "WETH", "TKA", 2500),
            v3_step(m, "TKA", "WETH", 3000),
        ]
    expected = out - amount
    assert expected > 0
    before = balance(owner, m.weth, m.executor)
    owner.send(m.executor, execute(m, amount, steps, min_profit=expected))
    assert balance(owner, m.weth, m.executor) - before == expected


def test_unprofitable_path_reverts(market: tuple[Anvil, DeployedMarket], owner: Sender) -> None:
    _, m = market
    assert m.executor
    # The reverse cycle buys TKA where it is dear and sells where it is cheap.
    steps = [
        v2_step(m, "uniswap:WETH/TKA", "WETH", "TKA", 3000),
        v2_step(m, "forkswap:WETH/TKA", "TKA", "WETH", 2500),
    ]
    expect_revert(owner, m.executor, execute(m, E18, steps), "Unprofitable")
    with pytest.raises(DeploymentError):
        owner.send(m.executor, execute(m, E18, steps), gas=1_000_000)


def test_hop_minimum_output_is_enforced(
    market: tuple[Anvil, DeployedMarket], owner: Sender
) -> None:
    _, m = market
    assert m.executor
    key = "forkswap:WETH/TKA"
    out = v2_out(E18, *reserves(owner, m.v2_pairs[key], m.weth, m.token("TKA")), 2500)
    steps = [
        v2_step(m, key, "WETH", "TKA", 2500, min_out=out + 1),
        v2_step(m, "uniswap:WETH/TKA", "TKA", "WETH", 3000),
    ]
    expect_revert(owner, m.executor, execute(m, E18, steps), "HopOutputTooLow")


def test_non_owner_is_rejected(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    assert m.executor
    stranger = Sender(node.rpc, node.rpc.call("eth_accounts")[1])
    steps = [
        v2_step(m, "forkswap:WETH/TKA", "WETH", "TKA", 2500),
        v2_step(m, "uniswap:WETH/TKA", "TKA", "WETH", 3000),
    ]
    expect_revert(stranger, m.executor, execute(m, E18, steps), "NotOwner")
    expect_revert(
        stranger,
        m.executor,
        encode_call("Executor", "withdraw", [m.weth, stranger.account, 1]),
        "NotOwner",
    )
    expect_revert(
        stranger,
        m.executor,
        encode_call("Executor", "withdrawETH", [stranger.account, 1]),
        "NotOwner",
    )


def test_v3_callback_from_a_non_pool_is_rejected(
    market: tuple[Anvil, DeployedMarket], owner: Sender
) -> None:
    node, m = market
    assert m.executor
    callback = encode_call("Executor", "uniswapV3SwapCallback", [10**18, -1, b""])
    # Anyone calling the callback directly (here: an EOA, and the real pool's address) is refused.
    expect_revert(owner, m.executor, callback, "UnexpectedCallback")
    pool = m.v3_pools["WETH/TKA/3000"]
    node.impersonate(pool)
    node.set_balance(pool, E18)
    expect_revert(Sender(node.rpc, pool), m.executor, callback, "UnexpectedCallback")
    # A "V3 pool" that is not the factory's pool for the pair and fee is refused before swapping.
    fake = v3_step(m, "WETH", "TKA", 3000, pool=m.v2_pairs["uniswap:WETH/TKA"])
    raw = expect_revert(owner, m.executor, execute(m, E18, [fake]), "NotAFactoryPool")
    assert raw.endswith(bytes.fromhex(m.v3_factory[2:].lower().rjust(64, "0")))  # type: ignore[index]


def test_coinbase_bid_is_exact_to_the_wei(
    market: tuple[Anvil, DeployedMarket], owner: Sender
) -> None:
    node, m = market
    assert m.executor
    coinbase = "0x000000000000000000000000000000000000c0b1"
    node.rpc.call("anvil_setCoinbase", [coinbase])
    steps = [
        v2_step(m, "forkswap:WETH/TKA", "WETH", "TKA", 2500),
        v2_step(m, "uniswap:WETH/TKA", "TKA", "WETH", 3000),
    ]
    profit, bid = decode_result(
        "Executor", "execute", owner.call(m.executor, execute(m, E18, steps, bid_bps=9000))
    )
    assert bid == profit * 9000 // 10_000 and bid > 0
    cb_before = int(node.rpc.call("eth_getBalance", [coinbase, "latest"]), 16)
    weth_before = balance(owner, m.weth, m.executor)
    base_fee = int(node.rpc.call("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
    # No priority fee: the coinbase's whole gain is the bid.
    owner.send(
        m.executor,
        execute(m, E18, steps, bid_bps=9000),
        maxFeePerGas=2 * base_fee + 10**9,
        maxPriorityFeePerGas=0,
    )
    assert int(node.rpc.call("eth_getBalance", [coinbase, "latest"]), 16) - cb_before == bid
    assert balance(owner, m.weth, m.executor) - weth_before == profit - bid
    # A bid needs the profit in WETH, and cannot exceed the whole profit.
    bad = encode_call("Executor", "execute", [m.token("TKA"), E18, 0, 1, steps])
    expect_revert(owner, m.executor, bad, "BidNeedsWethProfit")
    expect_revert(owner, m.executor, execute(m, E18, steps, bid_bps=10_001), "BidTooHigh")


def test_owner_withdraws_and_no_approval_is_left(
    market: tuple[Anvil, DeployedMarket], owner: Sender
) -> None:
    node, m = market
    assert m.executor
    steps = [v2_step(m, "forkswap:WETH/TKA", "WETH", "TKA", 2500), v3_step(m, "TKA", "WETH", 3000)]
    owner.send(m.executor, execute(m, E18, steps))
    spenders = [
        *m.v2_pairs.values(),
        *m.v3_pools.values(),
        m.v3_swap_router,
        *m.v2_routers.values(),
    ]
    for token in (m.weth, m.token("TKA")):
        for spender in spenders:
            allowance = s_allowance(owner, token, m.executor, spender)
            assert allowance == 0
    held = balance(owner, m.weth, m.executor)
    recipient = node.rpc.call("eth_accounts")[2]
    owner.send(m.executor, encode_call("Executor", "withdraw", [m.weth, recipient, held]))
    assert balance(owner, m.weth, m.executor) == 0
    assert balance(owner, m.weth, recipient) == held
    node.set_balance(m.executor, 5 * E18)
    before = int(node.rpc.call("eth_getBalance", [recipient, "latest"]), 16)
    owner.send(m.executor, encode_call("Executor", "withdrawETH", [recipient, 5 * E18]))
    assert int(node.rpc.call("eth_getBalance", [recipient, "latest"]), 16) - before == 5 * E18


def s_allowance(s: Sender, token: str, holder: str, spender: str) -> int:
    data = encode_call("TestERC20", "allowance", [holder, spender])
    return decode_result("TestERC20", "allowance", s.call(token, data))[0]


def test_fee_on_transfer_first_hop_uses_the_amount_received(
    market: tuple[Anvil, DeployedMarket], owner: Sender
) -> None:
    node, m = market
    assert m.executor
    fot = m.token("FOT")
    # Give the executor FOT (1% is burnt on the way), then sell it: the pair receives 1% less.
    node.rpc.call("anvil_setBalance", [m.deployer, hex(10**22)])
    Sender(node.rpc, m.deployer).send(
        fot, encode_call("TestERC20", "mint", [m.executor, 100 * E18])
    )
    r_in, r_out = reserves(owner, m.v2_pairs["uniswap:WETH/FOT"], fot, m.weth)
    expected = v2_out(100 * E18 * 99 // 100, r_in, r_out, 3000)
    steps = [(V2, m.v2_pairs["uniswap:WETH/FOT"], fot, m.weth, 3000, ZERO, 0, 0)]
    before = balance(owner, m.weth, m.executor)
    owner.send(m.executor, encode_call("Executor", "execute", [m.weth, 100 * E18, 0, 0, steps]))
    assert balance(owner, m.weth, m.executor) - before == expected
