"""Deploys a ``MarketSpec`` onto an Anvil with the real Uniswap bytecode and our contracts.

Transactions are sent from an unlocked dev account (the deployer; Anvil signs). V3 pools get
their liquidity through the real NonfungiblePositionManager.
"""

from __future__ import annotations

from math import isqrt
from typing import Any

from workbench.chain.abi import decode_result, encode_call, encode_deploy
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.contracts import artifact
from workbench.chain.market_spec import (
    WETH,
    DeployedMarket,
    MarketSpec,
    TokenSpec,
    V3PoolSpec,
    v2_pair_key,
    v3_pool_key,
)
from workbench.chain.transact import Sender
from workbench.errors import DeploymentError
from workbench.rpc import RpcClient
from workbench.types import address

MAX_UINT256 = 2**256 - 1
_FAR_DEADLINE = 2**64
_TOKEN_CONTRACT = {
    "plain": "TestERC20",
    "fee_on_transfer": "FeeOnTransferToken",
    "honeypot": "HoneypotToken",
}


def sqrt_price_x96(amount1: int, amount0: int) -> int:
    """floor(sqrt(amount1 / amount0) * 2**96): the V3 price of token1 in token0, exactly."""
    return isqrt((amount1 << 192) // amount0)


class _Deployer:
    def __init__(self, rpc: RpcClient, account: str) -> None:
        self.tx = Sender(rpc, account)
        self.rpc = rpc
        self.account = account
        self.addresses: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.approved: set[tuple[str, str]] = set()

    def create(
        self, name: str, args: list[Any] | tuple[Any, ...] = (), what: str | None = None
    ) -> str:
        receipt = self.tx.send(
            None, encode_deploy(artifact(name), args), what=what or f"deploy {name}"
        )
        if not receipt.contract_address:
            raise DeploymentError(f"deploy {name}: receipt has no contract address")
        return address(receipt.contract_address)

    def send(
        self,
        to: str,
        contract: str,
        fn: str,
        args: list[Any] | tuple[Any, ...] = (),
        value: int = 0,
    ) -> None:
        self.tx.send(to, encode_call(contract, fn, args), value=value, what=f"{contract}.{fn}")

    def view(
        self, to: str, contract: str, fn: str, args: list[Any] | tuple[Any, ...] = ()
    ) -> tuple[Any, ...]:
        return decode_result(contract, fn, self.tx.call(to, encode_call(contract, fn, args)))

    def fund(self, symbol: str, to: str, amount: int) -> None:
        """Gives ``to`` ``amount`` of a token: WETH by wrapping ETH, test tokens by minting."""
        if amount == 0:
            return
        token = self.addresses[symbol]
        if symbol == WETH:
            self.send(token, "WETH9", "deposit", value=amount)
            if to != self.account:
                self.send(token, "WETH9", "transfer", [to, amount])
        else:
            self.send(token, "TestERC20", "mint", [to, amount])

    def approve_once(self, symbol: str, spender: str) -> None:
        if (symbol, spender) not in self.approved:
            self.send(self.addresses[symbol], "TestERC20", "approve", [spender, MAX_UINT256])
            self.approved.add((symbol, spender))

    def exempt_if_honeypot(self, symbol: str, holder: str) -> None:
        """Lets a pool send a honeypot token (so it can be bought, but not sold back)."""
        if self.kinds.get(symbol) == "honeypot":
            self.send(self.addresses[symbol], "HoneypotToken", "setExempt", [holder, True])


def _weth_needed(spec: MarketSpec) -> int:
    total = spec.executor_funding.get(WETH, 0)
    for p in spec.v2_pairs:
        total += p.reserve_a if p.token_a == WETH else p.reserve_b if p.token_b == WETH else 0
    for pool in spec.v3_pools:
        for pos in pool.positions:
            total += (
                pos.amount_a
                if pool.token_a == WETH
                else pos.amount_b
                if pool.token_b == WETH
                else 0
            )
    return total


def deploy_market(
    rpc: RpcClient, spec: MarketSpec, *, deployer: str | None = None
) -> DeployedMarket:
    """Deploys everything in ``spec`` and returns the addresses. Anvil only (uses anvil_*)."""
    account = address(deployer or rpc.call("eth_accounts")[0])
    d = _Deployer(rpc, account)
    balance = int(rpc.call("eth_getBalance", [account, "latest"]), 16)
    AnvilControl(rpc).set_balance(account, balance + _weth_needed(spec) + 10**21)

    d.addresses[WETH] = d.create("WETH9")
    tokens = {t.symbol: _deploy_token(d, t) for t in spec.tokens}

    factories: dict[str, str] = {}
    routers: dict[str, str] = {}
    for dex in spec.v2_dexes:
        if dex.impl == "uniswap":
            factories[dex.name] = d.create(
                "UniswapV2Factory", [account], f"deploy {dex.name} factory"
            )
            routers[dex.name] = d.create(
                "UniswapV2Router02", [factories[dex.name], d.addresses[WETH]]
            )
        else:
            factories[dex.name] = d.create(
                "V2ForkFactory", [dex.fee_pips], f"deploy {dex.name} factory"
            )

    pairs: dict[str, str] = {}
    for p in spec.v2_pairs:
        factory = factories[p.dex]
        ta, tb = d.addresses[p.token_a], d.addresses[p.token_b]
        d.send(factory, "UniswapV2Factory", "createPair", [ta, tb])
        pair = address(d.view(factory, "UniswapV2Factory", "getPair", [ta, tb])[0])
        for sym in (p.token_a, p.token_b):
            d.exempt_if_honeypot(sym, pair)
        d.fund(p.token_a, pair, p.reserve_a)
        d.fund(p.token_b, pair, p.reserve_b)
        d.send(pair, "UniswapV2Pair", "mint", [account])
        pairs[v2_pair_key(p.dex, p.token_a, p.token_b)] = pair

    v3: dict[str, str] = {}
    pools: dict[str, str] = {}
    if spec.v3_pools:
        v3 = _deploy_v3_periphery(d)
        pools = {
            v3_pool_key(p.token_a, p.token_b, p.fee): _deploy_v3_pool(d, v3, p)
            for p in spec.v3_pools
        }

    executor = None
    if spec.executor:
        executor = d.create("Executor", [d.addresses[WETH]])
        for sym, amount in spec.executor_funding.items():
            d.fund(sym, executor, amount)

    return DeployedMarket(
        chain_id=int(rpc.call("eth_chainId"), 16),
        deployer=account,
        weth=d.addresses[WETH],
        tokens=tokens,
        v2_factories=factories,
        v2_routers=routers,
        v2_pairs=pairs,
        v3_factory=v3.get("factory"),
        v3_position_manager=v3.get("npm"),
        v3_swap_router=v3.get("router"),
        v3_quoter=v3.get("quoter"),
        v3_tick_lens=v3.get("lens"),
        v3_pools=pools,
        executor=executor,
        executor_owner=account if executor else None,
    )


def _deploy_token(d: _Deployer, t: TokenSpec) -> str:
    contract = _TOKEN_CONTRACT[t.kind]
    args: list[Any] = [f"{t.symbol} Token", t.symbol, t.decimals]
    if t.kind == "fee_on_transfer":
        args.append(t.fee_bps)
    addr = d.create(contract, args, f"deploy token {t.symbol}")
    d.addresses[t.symbol] = addr
    d.kinds[t.symbol] = t.kind
    return addr


def _deploy_v3_periphery(d: _Deployer) -> dict[str, str]:
    weth = d.addresses[WETH]
    factory = d.create("UniswapV3Factory")
    d.send(factory, "UniswapV3Factory", "enableFeeAmount", [100, 1])
    zero = "0x" + "00" * 20  # no token-URI descriptor: positions work, tokenURI() does not
    return {
        "factory": factory,
        "npm": d.create("NonfungiblePositionManager", [factory, weth, zero]),
        "router": d.create("SwapRouter", [factory, weth]),
        "quoter": d.create("QuoterV2", [factory, weth]),
        "lens": d.create("TickLens"),
    }


def _deploy_v3_pool(d: _Deployer, v3: dict[str, str], p: V3PoolSpec) -> str:
    ta, tb = d.addresses[p.token_a], d.addresses[p.token_b]
    a_is_token0 = int(ta, 16) < int(tb, 16)
    amount_b, amount_a = p.price_b_per_a
    price = (
        sqrt_price_x96(amount_b, amount_a) if a_is_token0 else sqrt_price_x96(amount_a, amount_b)
    )
    token0, token1 = (ta, tb) if a_is_token0 else (tb, ta)
    npm = v3["npm"]
    d.send(
        npm,
        "NonfungiblePositionManager",
        "createAndInitializePoolIfNecessary",
        [token0, token1, p.fee, price],
    )
    pool = address(d.view(v3["factory"], "UniswapV3Factory", "getPool", [token0, token1, p.fee])[0])
    for sym in (p.token_a, p.token_b):
        d.exempt_if_honeypot(sym, pool)
    for pos in p.positions:
        lower, upper = (
            (pos.tick_lower, pos.tick_upper) if a_is_token0 else (-pos.tick_upper, -pos.tick_lower)
        )
        amount0, amount1 = (
            (pos.amount_a, pos.amount_b) if a_is_token0 else (pos.amount_b, pos.amount_a)
        )
        sym0, sym1 = (p.token_a, p.token_b) if a_is_token0 else (p.token_b, p.token_a)
        d.fund(sym0, d.account, amount0)
        d.fund(sym1, d.account, amount1)
        d.approve_once(sym0, npm)
        d.approve_once(sym1, npm)
        params = (
            token0,
            token1,
            p.fee,
            lower,
            upper,
            amount0,
            amount1,
            0,
            0,
            d.account,
            _FAR_DEADLINE,
        )
        d.send(npm, "NonfungiblePositionManager", "mint", [params])
    return pool
