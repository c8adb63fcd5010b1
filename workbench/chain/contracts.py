"""Contract artifacts by name: the official Uniswap builds from npm, and our compiled contracts.

``artifact("UniswapV2Pair")`` returns its ABI and bytecode; ``contract(w3, name, address)`` a
web3.py contract object (web3 is for ABI encoding, not hot paths).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from workbench.chain.tools import node_modules, project_root
from workbench.errors import ContractError

_V2_CORE = "@uniswap/v2-core/build"
_V2_PERIPHERY = "@uniswap/v2-periphery/build"
_V3_CORE = "@uniswap/v3-core/artifacts/contracts"
_V3_PERIPHERY = "@uniswap/v3-periphery/artifacts/contracts"

NPM_ARTIFACTS: dict[str, str] = {
    "UniswapV2Factory": f"{_V2_CORE}/UniswapV2Factory.json",
    "UniswapV2Pair": f"{_V2_CORE}/UniswapV2Pair.json",
    "UniswapV2Router02": f"{_V2_PERIPHERY}/UniswapV2Router02.json",
    "WETH9": f"{_V2_PERIPHERY}/WETH9.json",
    "UniswapV3Factory": f"{_V3_CORE}/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": f"{_V3_CORE}/UniswapV3Pool.sol/UniswapV3Pool.json",
    "SwapRouter": f"{_V3_PERIPHERY}/SwapRouter.sol/SwapRouter.json",
    "QuoterV2": f"{_V3_PERIPHERY}/lens/QuoterV2.sol/QuoterV2.json",
    "NonfungiblePositionManager": (
        f"{_V3_PERIPHERY}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
    ),
    "TickLens": f"{_V3_PERIPHERY}/lens/TickLens.sol/TickLens.json",
}
"""Official compiled artifacts shipped in the pinned @uniswap npm packages."""

OWN_CONTRACTS: dict[str, str] = {
    "Executor": "Executor.sol",
    "TestERC20": "tokens/TestERC20.sol",
    "FeeOnTransferToken": "tokens/FeeOnTransferToken.sol",
    "HoneypotToken": "tokens/HoneypotToken.sol",
    "V2ForkFactory": "v2fork/V2ForkFactory.sol",
    "V2ForkPair": "v2fork/V2ForkPair.sol",
    "SwapProbe": "testing/SwapProbe.sol",
}
"""Our Solidity under contracts/src, compiled by forge into contracts/out at setup."""

# The init code hashes hard-coded in Router02 (UniswapV2Library) and the V3 periphery
# (PoolAddress): the npm builds must match them for the routers to find the pools.
UNISWAP_V2_PAIR_INIT_CODE_HASH = (
    "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
)
UNISWAP_V3_POOL_INIT_CODE_HASH = (
    "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
)


@dataclass(frozen=True, slots=True)
class Artifact:
    """A contract's ABI and creation bytecode, and where they came from."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    source: Path

    @property
    def init_code_hash(self) -> str:
        return "0x" + keccak(self.bytecode).hex()

    def function_abi(self, fn_name: str) -> dict[str, Any]:
        for item in self.abi:
            if item.get("type") == "function" and item.get("name") == fn_name:
                return item
        raise ContractError(f"{self.name} has no function {fn_name!r}")


def contracts_out() -> Path:
    return project_root() / "contracts" / "out"


def available() -> list[str]:
    """Every artifact name that ``artifact`` accepts."""
    return sorted([*NPM_ARTIFACTS, *OWN_CONTRACTS])


@functools.cache
def artifact(name: str) -> Artifact:
    """The artifact called ``name``; raises ``ContractError`` saying how to get it."""
    if name in NPM_ARTIFACTS:
        path = node_modules() / NPM_ARTIFACTS[name]
        fix = "run `make setup` (npm ci installs the @uniswap packages)"
    elif name in OWN_CONTRACTS:
        source = OWN_CONTRACTS[name]
        path = contracts_out() / Path(source).name / f"{name}.json"
        fix = "run `make setup` or `make contracts` (forge build compiles contracts/src)"
    else:
        raise ContractError(f"unknown contract {name!r}; known: {', '.join(available())}")
    if not path.is_file():
        raise ContractError(f"artifact for {name} not found at {path}; {fix}")
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ContractError(f"artifact for {name} at {path} is unreadable ({exc}); {fix}") from None
    return Artifact(name=name, abi=data["abi"], bytecode=_creation_code(data, path), source=path)


def _creation_code(data: dict[str, Any], path: Path) -> bytes:
    code = data.get("bytecode")
    if isinstance(code, dict):  # forge: {"object": "0x..."}
        code = code.get("object")
    if not isinstance(code, str) or len(code.removeprefix("0x")) == 0:
        raise ContractError(f"{path} has no creation bytecode (an interface or abstract contract?)")
    if "__" in code:
        raise ContractError(f"{path} needs library linking, which is not supported")
    return bytes.fromhex(code.removeprefix("0x"))


def contract(w3: Any, name: str, address: str | None = None) -> Any:
    """A web3.py contract object for ``name`` (at ``address`` if given)."""
    art = artifact(name)
    if address is None:
        return w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    return w3.eth.contract(address=address, abi=art.abi)
