"""SimulatedTokenSafety on a real Anvil with ARB_SPEC's tokens: a plain token, a fee-on-transfer
token and a honeypot (each in a V2 pair with WETH), with automine and without (a fork mining
"none", like the live follower); the chain is left as it was, and the risk manager rejects a
cycle through the honeypot, caching the verdict."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from live.risk import Reason, RiskLimits, RiskManager
from live.token_safety import SimulatedTokenSafety, TokenSafety, TokenSafetyError
from tests.conftest import E18
from workbench.chain.abi import decode_result, encode_call
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.executor_install import install_executor
from workbench.chain.market_spec import DeployedMarket
from workbench.errors import WorkbenchError
from workbench.market.fetch import fetch_pool_state
from workbench.market.graph import Cycle, find_cycles
from workbench.market.pool import Pool
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.rpc import RetryPolicy, RpcClient
from workbench.strategy.intents import ArbIntent

GWEI = 10**9


def pool_states(node: AnvilControl, market: DeployedMarket) -> dict[str, Pool]:
    addresses = [*market.v2_pairs.values(), *market.v3_pools.values()]
    return {a.lower(): fetch_pool_state(node.rpc, a) for a in addresses}


def token(market: DeployedMarket, symbol: str) -> str:
    return market.token(symbol).lower()


@pytest.fixture(params=["auto", "none"])
def chain(
    request: pytest.FixtureRequest, market: tuple[Anvil, DeployedMarket]
) -> Iterator[tuple[Anvil, DeployedMarket]]:
    """The market on an automining Anvil, or on a fork of it that mines only when told."""
    node, deployed = market
    if request.param == "auto":
        yield node, deployed
        return
    with Anvil(AnvilConfig(fork_url=node.url, mining="none")) as fork:
        yield fork, deployed


def safety(node: AnvilControl, market: DeployedMarket, **kw: Any) -> SimulatedTokenSafety:
    return SimulatedTokenSafety(node, pool_states(node, market), weth=market.weth, **kw)


def chain_state(node: AnvilControl, market: DeployedMarket) -> dict[str, Any]:
    """What a check must not change: the head, and every token and ETH balance of the pools."""
    rpc = node.rpc
    pools = [*market.v2_pairs.values(), *market.v3_pools.values()]
    tokens = [market.weth, *market.tokens.values()]
    balances = {}
    for t in tokens:
        for p in pools:
            data = "0x" + encode_call("TestERC20", "balanceOf", [p]).hex()
            reply = rpc.call("eth_call", [{"to": t, "data": data}, "latest"])
            balances[t, p] = decode_result("TestERC20", "balanceOf", reply)[0]
    return {
        "head": rpc.call("eth_getBlockByNumber", ["latest", False])["hash"],
        "pending": rpc.call("txpool_status"),
        "balances": balances,
        "eth": {p: rpc.call("eth_getBalance", [p, "latest"]) for p in pools},
        "nonces": {p: rpc.call("eth_getTransactionCount", [p, "latest"]) for p in pools},
    }


def test_verdicts_leave_the_chain_as_it_was(chain: tuple[Anvil, DeployedMarket]) -> None:
    node, market = chain
    checker = safety(node, market)
    before = chain_state(node, market)
    assert checker.check(token(market, "TKA")) is None
    assert checker.check(market.token("USDC")) is None  # checksummed works too
    assert checker.check(market.weth) is None
    fee = checker.check(token(market, "FOT"))
    assert fee is not None and fee.startswith("fee on transfer: sent ")
    sent, received = (int(w.rstrip(",")) for w in fee.split()[4:7:2])
    assert received == sent - sent * 100 // 10_000  # FOT burns 1%
    honey = checker.check(token(market, "HONEY"))
    assert honey is not None and honey.startswith("sells are blocked: 0x")
    assert checker.check("0x" + "12" * 20) == "no pool of the market holds it"
    assert chain_state(node, market) == before


def test_a_v3_pool_alone_is_a_holder_too(market: tuple[Anvil, DeployedMarket]) -> None:
    node, deployed = market
    v3 = {a.lower(): fetch_pool_state(node.rpc, a) for a in deployed.v3_pools.values()}
    checker = SimulatedTokenSafety(node, v3, weth=deployed.weth, probe=10**15)
    assert checker.check(token(deployed, "TKA")) is None
    assert checker.check(token(deployed, "FOT")) == "no pool of the market holds it"


def test_the_probe_amount_is_what_moves(market: tuple[Anvil, DeployedMarket]) -> None:
    node, deployed = market
    reason = safety(node, deployed, probe=10_000).check(token(deployed, "FOT"))
    assert reason == "fee on transfer: sent 10000, received 9900"
    with pytest.raises(WorkbenchError, match="probe must be a positive"):
        safety(node, deployed, probe=0)


def test_a_pool_holding_none_of_it_cannot_tell(market: tuple[Anvil, DeployedMarket]) -> None:
    node, deployed = market
    tka = token(deployed, "TKA")
    pair = fetch_pool_state(node.rpc, deployed.v2_pairs["uniswap:WETH/TKA"])
    ghost = dataclasses.replace(pair, address="0x" + "77" * 20)  # no code, no balance
    checker = SimulatedTokenSafety(node, {ghost.address: ghost}, weth=deployed.weth)
    with pytest.raises(TokenSafetyError, match="hold none of it"):
        checker.check(tka)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def cycle_through(pools: Mapping[str, Pool], weth: str, tok: str) -> Cycle:
    """A 2-hop cycle WETH -> ``tok`` -> WETH; a second pair (a copy at another address)
    is made up when the market has only one."""
    pairs = [p for p in pools.values() if {weth, tok} == {t.lower() for t in p.tokens}]
    if len(pairs) < 2:
        first = pairs[0]
        assert isinstance(first, UniswapV2Pool)
        pairs.append(dataclasses.replace(first, address="0x" + "99" * 20))
    return next(c for c in find_cycles(pairs, weth, max_hops=2) if c.hops[0].token_out == tok)


def arb(cycle: Cycle) -> ArbIntent:
    return ArbIntent(
        strategy="test",
        cycle=cycle,
        amount_in=E18,
        expected_profit=10**16,
        min_profit=0,
        gas_estimate=150_000,
    )


class Counting:
    """A TokenSafety that counts the checks it passes on."""

    def __init__(self, inner: TokenSafety) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def check(self, token: str) -> str | None:
        self.calls.append(token)
        return self.inner.check(token)


def test_the_risk_manager_rejects_a_honeypot_cycle_once_simulated(
    chain: tuple[Anvil, DeployedMarket],
) -> None:
    node, market = chain
    weth, honey, tka = market.weth.lower(), token(market, "HONEY"), token(market, "TKA")
    pools = pool_states(node, market)
    dead = AnvilControl(
        RpcClient(f"http://127.0.0.1:{closed_port()}", retry=RetryPolicy(max_attempts=1))
    )
    current: list[AnvilControl] = [dead]  # the runner replaces its follower: a callable
    checker = Counting(SimulatedTokenSafety(lambda: current[0], lambda: pools, weth=weth))
    rm = RiskManager(RiskLimits(capital_cap=100 * E18), token_safety=checker)
    honeypot_arb, plain_arb = (
        arb(cycle_through(pools, weth, honey)),
        arb(cycle_through(pools, weth, tka)),
    )

    def ask(intent: ArbIntent, block: int) -> tuple[bool, str | None, str | None]:
        d = rm.approve(intent, 0, target_block=block, max_fee_per_gas=GWEI)
        return d.approved, d.reason, d.detail

    before = chain_state(node, market)
    approved, reason, detail = ask(honeypot_arb, 1)  # the node is down: not cached
    assert (approved, reason) == (False, Reason.TOKEN_CHECK_FAILED)
    current[0] = node
    approved, reason, detail = ask(honeypot_arb, 2)
    assert (approved, reason) == (False, Reason.UNSAFE_TOKEN)
    assert detail is not None and detail.startswith(f"{honey}: sells are blocked")
    assert ask(honeypot_arb, 3)[:2] == (False, Reason.UNSAFE_TOKEN)
    assert ask(plain_arb, 3) == (True, None, None)
    assert ask(plain_arb, 4) == (True, None, None)
    assert checker.calls == [honey, honey, tka]  # each verdict simulated once
    assert chain_state(node, market) == before


def test_the_probe_trades_as_our_executor(market: tuple[Anvil, DeployedMarket]) -> None:
    """Bought and sold by the Executor's own address (a contract, impersonated), the verdicts
    are those of the plain probe, and nothing of it stays."""
    node, deployed = market
    owner, at = "0x" + "0a" * 20, "0x" + "e8" * 20
    install_executor(node, owner, deployed.weth, 0, at)
    checker = safety(node, deployed, trader=at)
    before = chain_state(node, deployed)
    assert checker.check(token(deployed, "TKA")) is None
    fee = checker.check(token(deployed, "FOT"))
    assert fee is not None and fee.startswith("fee on transfer: sent ")
    honey = checker.check(token(deployed, "HONEY"))
    assert honey is not None and honey.startswith("sells are blocked: 0x")
    assert chain_state(node, deployed) == before
    tka = token(deployed, "TKA")
    data = "0x" + encode_call("TestERC20", "balanceOf", [at]).hex()
    assert int(node.rpc.call("eth_call", [{"to": tka, "data": data}, "latest"]), 16) == 0
