"""The devnet's genesis: deploy the market, fund the agents, dump Anvil's state.

Setup runs with automine and a fixed 12 s timestamp interval, so it is as deterministic as the
history after it; it ends with one empty block that carries the devnet's block gas limit,
coinbase and starting base fee. Anvil's state dump at that block is the genesis every
rebuild and replay loads; its blocks and transactions are kept in it, sorted, so the file is
byte-identical for the same seed.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from devnet.config import GWEI, DevnetConfig, DevnetError
from devnet.keys import agent_account, coinbase
from devnet.mempool import sign
from devnet.spec import SYMBOLS, units
from workbench.chain.abi import encode_call, encode_deploy
from workbench.chain.anvil import Anvil
from workbench.chain.contracts import artifact
from workbench.chain.deploy import MAX_UINT256, deploy_market
from workbench.chain.market_spec import WETH, DeployedMarket, MarketSpec
from workbench.chain.transact import Receipt, Sender
from workbench.types import address

GENESIS_FILE = "genesis/state.json.gz"
_INVENTORY_USD = {"noise": 3_000_000, "informed": 8_000_000}
"""Each trader's holding of every token, in its account and again in its Executor."""
_GAS_ETH = 1_000 * 10**18
_SETUP_FEE = (1_000 * GWEI, GWEI)  # max fee, tip of the agents' own setup transactions


@dataclass(frozen=True, slots=True)
class Agent:
    """A trading account (key held in memory only) and the Executor it owns."""

    name: str
    role: str  # noise, informed or bot
    account: LocalAccount
    executor: str

    def describe(self) -> dict[str, str]:
        return {
            "name": self.name,
            "role": self.role,
            "address": self.account.address,
            "executor": self.executor,
        }


@dataclass(frozen=True, slots=True)
class Genesis:
    """The chain head that histories start from."""

    market: DeployedMarket
    agents: tuple[Agent, ...]
    number: int
    hash: str
    timestamp: int
    base_fee: int
    gas_used: int


def setup_chain(node: Anvil, spec: MarketSpec, config: DevnetConfig, out: Path) -> Genesis:
    """Deploys ``spec`` and the agents on ``node`` (automine) and writes the genesis to ``out``."""
    rpc = node.rpc
    rpc.call("anvil_setBlockTimestampInterval", [config.block_time])
    market = deploy_market(rpc, spec)
    deployer = Sender(rpc, market.deployer)
    roles = [("noise", config.noise.count), ("informed", config.informed.count)]
    agents = [
        _trader(node, deployer, market, f"{role}-{i}", role, agent_account(config.seed, role, i))
        for role, count in roles
        for i in range(count)
    ]
    for i, bot in enumerate(config.bots):
        account = agent_account(config.seed, "bot", i)
        deployer.send(account.address, b"", value=_GAS_ETH // 10, what="fund bot")
        executor = _deploy_executor(node, account, market.weth)
        _give(deployer, market, WETH, executor, bot.weth_funding)
        agents.append(Agent(bot.name, "bot", account, executor))

    rpc.call("anvil_removeBlockTimestampInterval")
    node.set_automine(False)
    rpc.call("evm_setBlockGasLimit", [hex(config.block_gas_limit)])
    rpc.call("anvil_setCoinbase", [coinbase(config.seed)])
    node.set_next_base_fee(config.initial_base_fee)
    last = rpc.call("eth_getBlockByNumber", ["latest", False])
    node.mine(timestamp=int(last["timestamp"], 16) + config.block_time)
    head = rpc.call("eth_getBlockByNumber", ["latest", False])
    write_genesis(node.dump_state(), out / GENESIS_FILE)
    return Genesis(
        market=market,
        agents=tuple(agents),
        number=int(head["number"], 16),
        hash=head["hash"],
        timestamp=int(head["timestamp"], 16),
        base_fee=int(head["baseFeePerGas"], 16),
        gas_used=int(head["gasUsed"], 16),
    )


def _trader(
    node: Anvil,
    deployer: Sender,
    market: DeployedMarket,
    name: str,
    role: str,
    account: LocalAccount,
) -> Agent:
    deployer.send(account.address, b"", value=_GAS_ETH, what=f"fund {name}")
    executor = _deploy_executor(node, account, market.weth)
    spenders = [market.v2_routers["uniswap"], market.v3_swap_router]
    for symbol in SYMBOLS:
        amount = units(symbol, _INVENTORY_USD[role])
        for holder in (account.address, executor):
            _give(deployer, market, symbol, holder, amount)
        for spender in spenders:
            assert spender is not None
            data = encode_call("TestERC20", "approve", [spender, MAX_UINT256])
            _send_signed(node, account, market.token(symbol), data, 80_000)
    return Agent(name, role, account, executor)


def _deploy_executor(node: Anvil, account: LocalAccount, weth: str) -> str:
    code = encode_deploy(artifact("Executor"), [weth])
    receipt = _send_signed(node, account, None, code, 2_000_000)
    if not receipt.contract_address:
        raise DevnetError("Executor deployment returned no contract address")
    return address(receipt.contract_address)


def _give(deployer: Sender, market: DeployedMarket, symbol: str, to: str, amount: int) -> None:
    token = market.token(symbol)
    if symbol == WETH:
        deployer.send(token, encode_call("WETH9", "deposit"), value=amount, what="wrap ETH")
        deployer.send(token, encode_call("WETH9", "transfer", [to, amount]), what="give WETH")
    else:
        deployer.send(token, encode_call("TestERC20", "mint", [to, amount]), what=f"mint {symbol}")


def _send_signed(
    node: Anvil, account: LocalAccount, to: str | None, data: bytes, gas: int
) -> Receipt:
    """Sends a transaction signed by an agent and waits for it (setup runs with automine)."""
    nonce = int(node.rpc.call("eth_getTransactionCount", [account.address, "latest"]), 16)
    max_fee, tip = _SETUP_FEE
    chain_id = int(node.rpc.call("eth_chainId"), 16)
    tx_hash, raw = sign(
        account, chain_id=chain_id, nonce=nonce, to=to, data=data, gas=gas, max_fee=max_fee, tip=tip
    )
    node.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
    receipt = Sender(node.rpc, account.address).receipt(tx_hash)
    if receipt.status != 1:
        raise DevnetError(f"setup transaction {tx_hash} from {account.address} reverted")
    return receipt


def write_genesis(blob: str, path: Path) -> None:
    """Anvil's dump (hex of gzipped JSON) as canonical JSON: sorted keys, blocks and
    transactions in chain order; gzipped without a timestamp so equal states give equal bytes."""
    state = json.loads(gzip.decompress(bytes.fromhex(blob.removeprefix("0x"))))
    state["blocks"].sort(key=lambda b: int(b["header"]["number"], 16))
    state["transactions"].sort(key=lambda t: (t["block_number"], t["info"]["transaction_index"]))
    text = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text, mtime=0))


def read_genesis(path: Path) -> bytes:
    """The genesis state as the JSON Anvil's ``--load-state`` reads."""
    return gzip.decompress(path.read_bytes())
