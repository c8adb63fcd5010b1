"""fetch_pool_state on Anvil with real Uniswap contracts, cross-checked against the state that
MarketState rebuilds from the chain's logs (eth_getLogs from block 0)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import E18
from workbench.chain.abi import decode_result, encode_call
from workbench.chain.anvil import Anvil
from workbench.chain.deploy import sqrt_price_x96
from workbench.chain.market_spec import DeployedMarket
from workbench.chain.transact import Receipt, Sender
from workbench.errors import MarketError, NotAPoolError
from workbench.market.fetch import fetch_pool_state
from workbench.market.market_state import MarketState
from workbench.market.uniswap_v2 import UniswapV2Pool, get_amount_out
from workbench.market.uniswap_v3 import UniswapV3State
from workbench.rpc import RpcClient

FAR = 2**40
MAX = 2**256 - 1
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


class Trader:
    """The deployer account sending real transactions through the real periphery."""

    def __init__(self, node: Anvil, m: DeployedMarket) -> None:
        self.s = Sender(node.rpc, m.deployer)
        self.m = m
        self.me = m.deployer
        self.npm = str(m.v3_position_manager)
        self.router = str(m.v3_swap_router)

    def send(self, to: str, contract: str, fn: str, *args: Any, value: int = 0) -> Receipt:
        return self.s.send(to, encode_call(contract, fn, list(args)), value=value)

    def view(self, to: str, contract: str, fn: str, *args: Any) -> tuple[Any, ...]:
        return decode_result(contract, fn, self.s.call(to, encode_call(contract, fn, list(args))))

    def fund_and_approve(self, symbols: list[str], spenders: list[str]) -> None:
        self.send(self.m.weth, "WETH9", "deposit", value=500 * E18)
        for sym in symbols:
            token = self.m.token(sym)
            if sym != "WETH":
                self.send(token, "TestERC20", "mint", self.me, 10**6 * E18)
            for spender in spenders:
                self.send(token, "TestERC20", "approve", spender, MAX)

    def mint(self, pool: UniswapV3State, lower: int, upper: int, amount: int) -> int:
        """A position through the NonfungiblePositionManager; returns its token id."""
        params = (
            pool.token0,
            pool.token1,
            pool.fee,
            lower,
            upper,
            amount,
            amount,
            0,
            0,
            self.me,
            FAR,
        )
        receipt = self.send(self.npm, "NonfungiblePositionManager", "mint", params)
        return next(
            int(log["topics"][3], 16)
            for log in receipt.logs
            if log["address"].lower() == self.npm.lower() and log["topics"][0] == TRANSFER
        )

    def decrease(self, token_id: int, fraction: tuple[int, int]) -> None:
        liquidity = self.view(self.npm, "NonfungiblePositionManager", "positions", token_id)[7]
        part = liquidity * fraction[0] // fraction[1]
        self.send(
            self.npm, "NonfungiblePositionManager", "decreaseLiquidity", (token_id, part, 0, 0, FAR)
        )

    def v3_swap(self, pool: UniswapV3State, token_in: str, amount: int) -> None:
        token_out = pool.token1 if token_in == pool.token0 else pool.token0
        params = (token_in, token_out, pool.fee, self.me, FAR, amount, 0, 0)
        self.send(self.router, "SwapRouter", "exactInputSingle", params)


def rebuilt_from_logs(rpc: RpcClient, fetched: list[UniswapV2Pool | UniswapV3State]) -> MarketState:
    """Each pool registered empty (as before its creation), then its logs since block 0.

    A V3 state needs a valid price: the placeholder is overwritten by the pool's Initialize,
    which comes before any of its other logs."""
    empty: list[UniswapV2Pool | UniswapV3State] = []
    for p in fetched:
        if isinstance(p, UniswapV2Pool):
            empty.append(
                UniswapV2Pool(
                    address=p.address,
                    token0=p.token0,
                    token1=p.token1,
                    reserve0=0,
                    reserve1=0,
                    fee=p.fee,
                )
            )
        else:
            empty.append(
                UniswapV3State(
                    address=p.address,
                    token0=p.token0,
                    token1=p.token1,
                    fee=p.fee,
                    tick_spacing=p.tick_spacing,
                    sqrt_price_x96=2**96,
                    tick=0,
                    liquidity=0,
                )
            )
    market = MarketState(empty)
    query = {"fromBlock": "0x0", "toBlock": "latest", "address": [p.address for p in fetched]}
    market.apply_all(rpc.call("eth_getLogs", [query]))
    assert market.unknown == set() and market.rejected == []
    return market


def block_number(rpc: RpcClient) -> int:
    return int(rpc.call("eth_blockNumber"), 16)


def test_node_state_equals_state_from_logs(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    rpc, t = node.rpc, Trader(node, m)
    t.fund_and_approve(["WETH", "TKA", "FOT"], [t.npm, t.router, m.v2_routers["uniswap"]])
    pool = fetch_pool_state(rpc, m.v3_pools["WETH/TKA/3000"])
    assert isinstance(pool, UniswapV3State) and pool.tick_spacing == 60
    base = pool.tick // 60 * 60
    ids = [
        t.mint(pool, base - 600, base + 600, 5 * E18),
        t.mint(pool, base - 1200, base - 600, 2 * E18),  # shares tick base-600
        t.mint(pool, base + 120, base + 600, 3 * E18),  # above the price: one token only
        t.mint(pool, base, base + 60, 10**4 * E18),  # narrow, deep
        t.mint(pool, base - 120, base - 60, E18),
    ]
    minted = block_number(rpc)
    t.v3_swap(pool, m.weth, 40 * E18)
    t.v3_swap(pool, m.token("TKA"), 150_000 * E18)
    t.decrease(ids[3], (1, 1))  # its two ticks become uninitialized
    t.decrease(ids[1], (1, 3))
    t.v3_swap(pool, m.weth, 5 * E18)

    router, weth, tka, fot = m.v2_routers["uniswap"], m.weth, m.token("TKA"), m.token("FOT")
    swap = "swapExactTokensForTokensSupportingFeeOnTransferTokens"
    t.send(router, "UniswapV2Router02", swap, 3 * E18, 0, [weth, tka], t.me, FAR)
    # FOT burns 1% of each transfer: the pair's Sync still tracks its balances.
    t.send(router, "UniswapV2Router02", swap, 1000 * E18, 0, [fot, weth], t.me, FAR)
    t.send(router, "UniswapV2Router02", swap, E18, 0, [weth, fot], t.me, FAR)
    fork = fetch_pool_state(rpc, m.v2_pairs["forkswap:WETH/TKA"])
    assert isinstance(fork, UniswapV2Pool) and fork.fee == 2500  # from feePips()
    r_in, r_out = fork.reserves_for(weth)
    out = get_amount_out(2 * E18, r_in, r_out, fork.fee)
    t.send(weth, "WETH9", "transfer", fork.address, 2 * E18)
    outs = (0, out) if fork.token0 == weth else (out, 0)
    t.send(fork.address, "V2ForkPair", "swap", *outs, t.me, b"")

    fetched = [fetch_pool_state(rpc, a) for a in [*m.v2_pairs.values(), *m.v3_pools.values()]]
    from_logs = rebuilt_from_logs(rpc, fetched)
    for p in fetched:
        assert from_logs.state(p.address) == p, p.address
        if isinstance(p, UniswapV2Pool):
            assert p.fee == (2500 if p.address == fork.address else 3000)
            assert t.view(p.address, "UniswapV2Pair", "getReserves")[:2] == (p.reserve0, p.reserve1)
    v3 = fetch_pool_state(rpc, pool.address)
    assert isinstance(v3, UniswapV3State)
    # The deployment's two positions' ticks, and the new ones' but for the cleared range.
    ours = {base - 600, base + 600, base - 1200, base + 120, base - 120, base - 60}
    assert set(v3.ticks) == {-887220, 75000, 77040, 887220} | ours
    assert v3.sqrt_price_x96 != pool.sqrt_price_x96 and v3.liquidity > 0
    # A past block reads that block's state, every call at that one block.
    then = fetch_pool_state(rpc, pool.address, block=minted)
    assert then == from_logs.state_after(pool.address, minted) != v3
    assert fetch_pool_state(rpc, pool.address, kind="v3", batch_size=7) == v3


def test_spacing_one_pool_reads_every_bitmap_word(market: tuple[Anvil, DeployedMarket]) -> None:
    """Fee 100 (spacing 1): 6932 bitmap words, in batches of 1000, with ticks at both ends."""
    node, m = market
    rpc, t = node.rpc, Trader(node, m)
    t.fund_and_approve(["TKA", "USDC"], [t.npm, t.router])
    tka, usdc = m.token("TKA"), m.token("USDC")
    token0, token1 = sorted([tka, usdc], key=lambda a: int(a, 16))
    t.send(
        t.npm,
        "NonfungiblePositionManager",
        "createAndInitializePoolIfNecessary",
        token0,
        token1,
        100,
        sqrt_price_x96(1, 1),
    )
    address = t.view(str(m.v3_factory), "UniswapV3Factory", "getPool", token0, token1, 100)[0]
    pool = fetch_pool_state(rpc, address)
    assert isinstance(pool, UniswapV3State) and pool.tick_spacing == 1 and pool.ticks == {}
    t.mint(pool, -887272, 887272, 10**3 * E18)
    t.mint(pool, -5, 7, 10**5 * E18)
    t.mint(pool, -300, -3, 10**5 * E18)
    t.v3_swap(pool, token0, 10**5 * E18)
    start = time.monotonic()
    fetched = fetch_pool_state(rpc, address)
    seconds = time.monotonic() - start
    assert isinstance(fetched, UniswapV3State)
    assert sorted(fetched.ticks) == [-887272, -300, -5, -3, 7, 887272]
    assert fetched.tick < -5  # the swap crossed the narrow ranges
    assert rebuilt_from_logs(rpc, [fetched]).state(address) == fetched
    assert seconds < 30, f"fetching a spacing-1 pool took {seconds:.1f}s"


def test_addresses_that_are_not_pools(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    with pytest.raises(NotAPoolError, match="no contract there"):
        fetch_pool_state(node.rpc, m.deployer)
    with pytest.raises(NotAPoolError, match="neither V3's slot0"):
        fetch_pool_state(node.rpc, m.token("TKA"))
    with pytest.raises(NotAPoolError, match=r"not a Uniswap V2 pool: getReserves\(\) did not"):
        fetch_pool_state(node.rpc, m.v3_pools["WETH/TKA/3000"], kind="v2")
    with pytest.raises(NotAPoolError, match=r"not a Uniswap V3 pool: fee\(\), tickSpacing\(\)"):
        fetch_pool_state(node.rpc, m.v2_pairs["uniswap:WETH/TKA"], kind="v3")
    t = Trader(node, m)
    tka, usdc = m.token("TKA"), m.token("USDC")
    t.send(str(m.v3_factory), "UniswapV3Factory", "createPool", tka, usdc, 500)
    bare = t.view(str(m.v3_factory), "UniswapV3Factory", "getPool", tka, usdc, 500)[0]
    with pytest.raises(NotAPoolError, match="not initialized yet"):
        fetch_pool_state(node.rpc, bare)
    with pytest.raises(MarketError, match="kind must be"):
        fetch_pool_state(node.rpc, bare, kind="V3")  # type: ignore[arg-type]
    with pytest.raises(NotAPoolError, match="at block 1:") as err:
        fetch_pool_state(node.rpc, m.v2_pairs["uniswap:WETH/TKA"], block=1)  # before it existed
    assert err.value.block == 1
