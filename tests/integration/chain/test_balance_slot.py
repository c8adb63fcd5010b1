"""Crediting a token by writing its balance slot: the slot is found by probing the token's
storage (WETH9's known slot is tried first), never assumed."""

from __future__ import annotations

import pytest

from tests.integration.chain.test_executor import balance
from workbench.chain.anvil import Anvil
from workbench.chain.executor_install import credit_weth, find_balance_slot, mapping_slot
from workbench.chain.market_spec import DeployedMarket
from workbench.chain.transact import Sender
from workbench.errors import DeploymentError

HOLDER = "0x00000000000000000000000000000000000b0b00"


def test_probing_finds_weth9_and_a_token_with_another_layout(
    market: tuple[Anvil, DeployedMarket],
) -> None:
    node, deployed = market
    sender = Sender(node.rpc, node.rpc.call("eth_accounts")[0])
    # WETH9 and our TestERC20 keep balanceOf at slot 3; a Uniswap V2 pair's LP token at 1
    lp_token = deployed.v2_pairs["uniswap:WETH/TKA"]
    assert find_balance_slot(node, deployed.weth, HOLDER, first=3) == mapping_slot(HOLDER, 3)
    assert find_balance_slot(node, deployed.token("TKA"), HOLDER) == mapping_slot(HOLDER, 3)
    assert find_balance_slot(node, lp_token, HOLDER) == mapping_slot(HOLDER, 1)
    for token in (deployed.weth, deployed.token("TKA"), lp_token):
        before = balance(sender, token, HOLDER)
        credit_weth(node, token, HOLDER, 12345)
        assert balance(sender, token, HOLDER) == before + 12345


def test_a_contract_without_a_balance_mapping_is_refused(
    market: tuple[Anvil, DeployedMarket],
) -> None:
    node, deployed = market
    pair = deployed.v3_pools["WETH/TKA/3000"]  # answers no balanceOf at all
    with pytest.raises(DeploymentError, match="no balanceOf mapping found"):
        find_balance_slot(node, pair, HOLDER)
