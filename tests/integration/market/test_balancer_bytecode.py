"""BalancerWeightedPool against the real Balancer V2 bytecode on Anvil.

The mainnet builds of the Vault, Authorizer and V1 WeightedPoolFactory /
WeightedPool2TokensFactory ship in npm ``@balancer-labs/v2-deployments`` (1.1.1). Each
hypothesis case creates a pool (2 or 3 tokens, drawn weights, 6/18 decimals, fee), joins it,
executes one swap through ``Vault.swap`` (amount and resulting balances must match the model
to the wei, reverts must match ``BAL#`` codes), then quotes a second swap with
``queryBatchSwap`` on the new state. Cases never revert the chain: each gets a fresh pool, so
Anvil's nonce keeps growing (identical transactions replayed after ``evm_revert`` would reuse
the hashes of discarded ones), and Anvil runs with pruned history so it keeps no state on disk.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.chain.abi import encode_call, encode_deploy
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.contracts import Artifact, artifact
from workbench.chain.tools import node_modules
from workbench.chain.transact import Sender, revert_data
from workbench.errors import ContractError
from workbench.market.balancer import BalancerError, BalancerWeightedPool
from workbench.rpc import RpcError
from workbench.types import address

DEPLOYED = "@balancer-labs/v2-deployments/deployed/mainnet"
MAX_UINT = 2**256 - 1
GIVEN_IN, GIVEN_OUT = 0, 1
FUNDS = "(address,bool,address,bool)"
SINGLE_SWAP = "(bytes32,uint8,address,address,uint256,bytes)"
BATCH_STEP = "(bytes32,uint256,uint256,uint256,bytes)"
POOL_REGISTERED = "0x" + keccak(text="PoolRegistered(bytes32,address,uint8)").hex()
TOKEN_DECIMALS = (18, 18, 6, 6)
EXAMPLES = 1000 if os.environ.get("WORKBENCH_DEEP") == "1" else 250


def balancer_artifact(name: str) -> Artifact:
    path = node_modules() / DEPLOYED / f"{name}.json"
    if not path.is_file():
        raise ContractError(f"{path} missing; run `make setup` (npm ci)")
    data = json.loads(path.read_text())
    return Artifact(name, data["abi"], bytes.fromhex(data["bytecode"][2:]), path)


def call_data(signature: str, types: list[str], args: list[Any]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, args)


@dataclass
class Chain:
    node: Anvil
    tx: Sender
    vault: str
    factory: str
    factory_2tokens: str
    tokens: list[str]  # TestERC20s with TOKEN_DECIMALS

    def deploy(self, art: Artifact, args: list[Any]) -> str:
        receipt = self.tx.send(None, encode_deploy(art, args), what=f"deploy {art.name}")
        assert receipt.contract_address
        return address(receipt.contract_address)


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    # Pruned history: Anvil keeps states in memory only. Unpruned, it writes every old
    # block's state to ~/.foundry/anvil/tmp, and hundreds of pools then cost gigabytes.
    with Anvil(AnvilConfig(prune_history=0)) as node:
        me = address(node.rpc.call("eth_accounts")[0])
        tx = Sender(node.rpc, me)
        c = Chain(node, tx, "", "", "", [])
        authorizer = c.deploy(balancer_artifact("Authorizer"), [me])
        weth = c.deploy(artifact("WETH9"), [])
        c.vault = c.deploy(balancer_artifact("Vault"), [authorizer, weth, 0, 0])
        c.factory = c.deploy(balancer_artifact("WeightedPoolFactory"), [c.vault])
        c.factory_2tokens = c.deploy(balancer_artifact("WeightedPool2TokensFactory"), [c.vault])
        for k, dec in enumerate(TOKEN_DECIMALS):
            token = c.deploy(artifact("TestERC20"), [f"Token{k}", f"T{k}", dec])
            tx.send(token, encode_call("TestERC20", "mint", [me, 2**200]))
            tx.send(token, encode_call("TestERC20", "approve", [c.vault, MAX_UINT]))
            c.tokens.append(token)
        yield c


def normalized_weights(shares: list[int]) -> list[int]:
    """Weights proportional to ``shares`` above the 1% minimum, summing to exactly 1e18."""
    n, one, floor = len(shares), 10**18, 10**16
    shares = shares if sum(shares) else [1] * n
    weights = [floor + (one - n * floor) * s // sum(shares) for s in shares]
    weights[-1] += one - sum(weights)
    return weights


COMMON_WEIGHTS = {  # 50/50, 80/20, 98/2 and a third each: exponents 1 and 4 among them
    2: [
        [5 * 10**17] * 2,
        [8 * 10**17, 2 * 10**17],
        [2 * 10**17, 8 * 10**17],
        [98 * 10**16, 2 * 10**16],
    ],
    3: [[333333333333333333, 333333333333333333, 333333333333333334]],
}


@st.composite
def pool_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Tokens (sorted by address later), weights summing to 1e18, balances, fee, factory."""
    n = draw(st.sampled_from([2, 2, 3]))
    picks = draw(st.permutations(range(len(TOKEN_DECIMALS))))[:n]
    if draw(st.booleans()):
        weights = draw(st.sampled_from(COMMON_WEIGHTS[n]))
    else:
        weights = normalized_weights(draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n)))
    balances = [
        draw(st.integers(10**3, 10**12)) * 10 ** (TOKEN_DECIMALS[k] - 3) + draw(st.integers(0, 999))
        for k in picks
    ]
    fee = draw(
        st.sampled_from([10**12, 10**15, 3 * 10**15, 10**16, 10**17]) | st.integers(10**12, 10**17)
    )
    two_tokens_factory = n == 2 and draw(st.booleans())
    return {
        "picks": picks,
        "weights": weights,
        "balances": balances,
        "fee": fee,
        "oracle": two_tokens_factory,
    }


def create_pool(c: Chain, cfg: dict[str, Any]) -> tuple[bytes, BalancerWeightedPool]:
    rows = sorted(
        zip(cfg["picks"], cfg["weights"], cfg["balances"], strict=True),
        key=lambda r: int(c.tokens[r[0]], 16),
    )
    tokens = [c.tokens[k] for k, _, _ in rows]
    weights = [w for _, w, _ in rows]
    balances = [b for _, _, b in rows]
    if cfg["oracle"]:
        data = call_data(
            "create(string,string,address[],uint256[],uint256,bool,address)",
            ["string", "string", "address[]", "uint256[]", "uint256", "bool", "address"],
            ["P", "P", tokens, weights, cfg["fee"], True, c.tx.account],
        )
        receipt = c.tx.send(c.factory_2tokens, data, what="create WeightedPool2Tokens")
    else:
        data = call_data(
            "create(string,string,address[],uint256[],uint256,address)",
            ["string", "string", "address[]", "uint256[]", "uint256", "address"],
            ["P", "P", tokens, weights, cfg["fee"], c.tx.account],
        )
        receipt = c.tx.send(c.factory, data, what="create WeightedPool")
    log = next(lg for lg in receipt.logs if lg["topics"][0] == POOL_REGISTERED)
    pool_id = bytes.fromhex(log["topics"][1][2:])
    pool_address = address("0x" + log["topics"][2][-40:])
    user_data = encode(["uint256", "uint256[]"], [0, balances])  # JoinKind.INIT
    join = call_data(
        "joinPool(bytes32,address,address,(address[],uint256[],bytes,bool))",
        ["bytes32", "address", "address", "(address[],uint256[],bytes,bool)"],
        [pool_id, c.tx.account, c.tx.account, (tokens, [MAX_UINT] * len(tokens), user_data, False)],
    )
    c.tx.send(c.vault, join, what="joinPool INIT")
    model = BalancerWeightedPool(
        address=pool_address,
        tokens=tuple(tokens),
        balances=tuple(balances),
        weights=tuple(weights),
        decimals=tuple(TOKEN_DECIMALS[k] for k, _, _ in rows),
        swap_fee=cfg["fee"],
        legacy_pow=True,
    )
    assert pool_balances(c, pool_id) == model.balances
    return pool_id, model


def pool_balances(c: Chain, pool_id: bytes) -> tuple[int, ...]:
    data = call_data("getPoolTokens(bytes32)", ["bytes32"], [pool_id])
    _, balances, _ = decode(["address[]", "uint256[]", "uint256"], c.tx.call(c.vault, data))
    return tuple(balances)


def model_swap(model: BalancerWeightedPool, kind: int, i: int, j: int, amount: int) -> Any:
    """(amount_in, amount_out, pool_after) from the model, or the BAL# code it raises."""
    t_in, t_out = model.tokens[i], model.tokens[j]
    try:
        if kind == GIVEN_IN:
            s = model.swap_exact_in(t_in, amount, token_out=t_out)
        else:
            s = model.swap_exact_out(t_in, amount, token_out=t_out)
    except BalancerError as err:
        return err.code
    return s


def chain_code(err: RpcError) -> int:
    reason = decode(["string"], revert_data(err)[4:])[0]
    assert reason.startswith("BAL#"), reason
    return int(reason[4:])


@st.composite
def legs(draw: st.DrawFn, n: int) -> tuple[int, int, int, int]:
    """(kind, i, j, amount as a fraction of the relevant balance in 1e-6 units)."""
    i, j = draw(st.permutations(range(n)))[:2]
    kind = draw(st.sampled_from([GIVEN_IN, GIVEN_OUT]))
    ppm = draw(st.integers(1, 310_000) | st.integers(299_000, 301_000) | st.integers(1, 100))
    return kind, i, j, ppm


def leg_amount(model: BalancerWeightedPool, kind: int, i: int, j: int, ppm: int) -> int:
    balance = model.balances[i] if kind == GIVEN_IN else model.balances[j]
    return max(1, balance * ppm // 1_000_000)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cfg=pool_configs(), data=st.data())
def test_vault_swaps_match_the_model(
    chain: Chain, cfg: dict[str, Any], data: st.DataObject
) -> None:
    c = chain
    pool_id, model = create_pool(c, cfg)
    n = len(model.tokens)
    # Leg 1: a real Vault.swap; the amount and the balances afterwards must match.
    kind, i, j, ppm = data.draw(legs(n))
    amount = leg_amount(model, kind, i, j, ppm)
    single = (pool_id, kind, model.tokens[i], model.tokens[j], amount, b"")
    funds = (c.tx.account, False, c.tx.account, False)
    limit = 0 if kind == GIVEN_IN else MAX_UINT
    swap = call_data(
        f"swap({SINGLE_SWAP},{FUNDS},uint256,uint256)",
        [SINGLE_SWAP, FUNDS, "uint256", "uint256"],
        [single, funds, limit, 2**64],
    )
    expected = model_swap(model, kind, i, j, amount)
    try:
        (calculated,) = decode(["uint256"], c.tx.call(c.vault, swap))
    except RpcError as err:
        assert chain_code(err) == expected, (cfg, kind, i, j, amount)
        return
    assert not isinstance(expected, int), f"model raised BAL#{expected}, Vault gave {calculated}"
    assert calculated == (expected.amount_out if kind == GIVEN_IN else expected.amount_in)
    c.tx.send(c.vault, swap, what="Vault.swap")
    model = expected.pool_after
    assert pool_balances(c, pool_id) == model.balances
    # Leg 2: queryBatchSwap on the new state.
    kind, i, j, ppm = data.draw(legs(n))
    amount = leg_amount(model, kind, i, j, ppm)
    query = call_data(
        f"queryBatchSwap(uint8,{BATCH_STEP}[],address[],{FUNDS})",
        ["uint8", f"{BATCH_STEP}[]", "address[]", FUNDS],
        [kind, [(pool_id, i, j, amount, b"")], list(model.tokens), funds],
    )
    expected = model_swap(model, kind, i, j, amount)
    try:
        (deltas,) = decode(["int256[]"], c.tx.call(c.vault, query))
    except RpcError as err:
        assert chain_code(err) == expected
        return
    assert not isinstance(expected, int), f"model raised BAL#{expected}, Vault gave {deltas}"
    assert (deltas[i], -deltas[j]) == (expected.amount_in, expected.amount_out)
