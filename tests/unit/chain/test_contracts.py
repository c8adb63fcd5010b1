"""Artifact lookup: every name loads, the Uniswap builds match the routers' init code hashes."""

from __future__ import annotations

import pytest

from workbench.chain.abi import encode_call, selector
from workbench.chain.contracts import (
    UNISWAP_V2_PAIR_INIT_CODE_HASH,
    UNISWAP_V3_POOL_INIT_CODE_HASH,
    artifact,
    available,
)
from workbench.errors import ContractError


@pytest.mark.parametrize("name", available())
def test_every_artifact_has_abi_and_bytecode(name: str) -> None:
    art = artifact(name)
    assert art.abi and len(art.bytecode) > 100


def test_npm_builds_match_the_hashes_the_routers_hard_code() -> None:
    assert artifact("UniswapV2Pair").init_code_hash == UNISWAP_V2_PAIR_INIT_CODE_HASH
    assert artifact("UniswapV3Pool").init_code_hash == UNISWAP_V3_POOL_INIT_CODE_HASH


def test_unknown_names_and_bad_calls_say_what_is_wrong() -> None:
    with pytest.raises(ContractError, match=r"unknown contract 'UniswapV4'.*Executor"):
        artifact("UniswapV4")
    with pytest.raises(ContractError, match="no function 'nope'"):
        encode_call("Executor", "nope")
    with pytest.raises(ContractError, match="takes 3 arguments"):
        encode_call("Executor", "withdraw", ["0x" + "00" * 20])


def test_selectors_match_the_known_ones() -> None:
    assert selector("UniswapV2Pair", "getReserves").hex() == "0902f1ac"
    assert selector("UniswapV2Pair", "swap").hex() == "022c0d9f"
    assert selector("UniswapV3Pool", "swap").hex() == "128acb08"
