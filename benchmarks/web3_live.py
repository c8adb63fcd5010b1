"""The baseline of ``live_latency.py``: the pending transaction -> backrun bundle pipeline as a
user writes it with web3.py, against the same devnet flow and with the same strategy object.

- ``AsyncWeb3`` over a WebSocket: ``newHeads`` and ``newPendingTransactions`` with full
  transactions, read with ``process_subscriptions()``; a pending transaction's latency starts
  when the loop receives its notification.
- An Anvil fork of the node (mined on request) holds the pending chain: at each new head it is reset to
  that block (``anvil_reset``), and the pools that the block moved are read again; each pending
  transaction's signed bytes are re-encoded from the notification's fields (the runner's own
  encoder: the node, an Anvil, serves no raw bytes of pending transactions), it is sent to the
  fork and mined (``evm_mine``: with automine its receipt may not be there yet), and its
  receipt says which pools it moved, which are read again by ``eth_call``
  (``getReserves``; ``slot0`` and ``liquidity``, the ticks too after a ``Mint``/``Burn``).
- The strategy (``backrun_arb``, the runner's own code: the decisions must be the same) runs on
  those pools; each intent is checked on the fork with ``estimate_gas`` (the pre-trade
  simulation), built with ``build_transaction``, signed with eth-account, and POSTed as
  ``eth_sendBundle`` ([the pending transaction, ours]) with an ``X-Flashbots-Signature`` by
  aiohttp. The latency ends when the POST starts, as the runner's ends at the hand-off.

The start-up (pools and their ticks read once, the cycle index) is not timed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from web3 import AsyncHTTPProvider, AsyncWeb3, Web3, WebSocketProvider
from web3.exceptions import ContractLogicError, Web3RPCError
from web3_script import POOL_EVENTS

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.contracts import contract
from workbench.chain.eip1559 import next_base_fee
from workbench.chain.market_spec import DeployedMarket
from workbench.execution.bundle import executor_steps
from workbench.market.fetch import fetch_pool_state
from workbench.market.graph import CycleIndex, find_cycles
from workbench.market.pool import Pool
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.sources.raw_tx import verified_raw
from workbench.strategy.api import Strategy
from workbench.strategy.context import BlockEnv, PendingTx, StrategyContext

BLOCK_TIME = 12  # the runner's default: the next block's timestamp is its parent's + 12 s
MINT_BURN = set(POOL_EVENTS[2:])


@dataclass
class Web3Run:
    """What the pipeline did: its first head, and per target block the intents found (key,
    amount in) and the latency of each bundle it sent (ms)."""

    first_head: int = -1
    found: set[tuple[int, str, int]] = field(default_factory=set)
    latencies: list[tuple[int, float]] = field(default_factory=list)  # (target block, ms)
    sent: int = 0
    estimate_failed: int = 0


class Pipeline:
    def __init__(
        self,
        info: dict[str, Any],
        strategy: Strategy,
        account: LocalAccount,
        identity: LocalAccount,
        fork: Anvil,
    ) -> None:
        self.info, self.strategy, self.account, self.identity = info, strategy, account, identity
        self.market = DeployedMarket.load(Path(info["market_file"]))
        self.node = AsyncWeb3(AsyncHTTPProvider(info["rpc_url"], cache_allowed_requests=True))
        self.fork_rpc = fork.rpc
        self.fork = AsyncWeb3(AsyncHTTPProvider(fork.url, cache_allowed_requests=True))
        self.executor = contract(self.fork, "Executor", info["executors"][account.address])
        factory = self.market.v3_factory or ""
        self.v3_factories = {p.lower(): factory for p in self.market.v3_pools.values()}
        addresses = [*self.market.v2_pairs.values(), *self.market.v3_pools.values()]
        self.pools: dict[str, Pool] = {a.lower(): fetch_pool_state(fork.rpc, a) for a in addresses}
        self.index = CycleIndex.of(find_cycles(list(self.pools.values()), self.market.weth))
        self.reads = {
            a.lower(): contract(self.fork, "UniswapV2Pair", a).functions
            for a in self.market.v2_pairs.values()
        } | {
            a.lower(): contract(self.fork, "UniswapV3Pool", a).functions
            for a in self.market.v3_pools.values()
        }
        self.checksummed = [Web3.to_checksum_address(a) for a in addresses]
        self.run = Web3Run()
        self.head = -1
        self.running: dict[str, Pool] = {}
        self.env: BlockEnv | None = None
        self.nonce = 0
        self.seen: set[str] = set()
        self.session: aiohttp.ClientSession | None = None

    async def read(self, address: str, reticked: bool) -> Pool:
        """The pool's state on the fork now (its ticks read again when ``reticked``)."""
        if reticked:
            return await asyncio.to_thread(fetch_pool_state, self.fork_rpc, address)
        old, fns = self.pools[address], self.reads[address]
        if isinstance(old, UniswapV2Pool):
            r0, r1, _ = await fns.getReserves().call()
            return replace(old, reserve0=r0, reserve1=r1)
        slot0, liquidity = await asyncio.gather(fns.slot0().call(), fns.liquidity().call())
        return old.with_price(slot0[0], slot0[1], liquidity)  # type: ignore[attr-defined]

    async def read_moved(self, logs: list[Any], into: dict[str, Pool]) -> frozenset[str]:
        """Reads again every pool that ``logs`` show moved; the pools read."""
        moved: dict[str, bool] = {}
        for entry in logs:
            address = str(entry["address"]).lower()
            topic = entry["topics"][0].to_0x_hex() if entry["topics"] else ""
            if address in self.pools and topic in POOL_EVENTS:
                moved[address] = moved.get(address, False) or topic in MINT_BURN
        states = await asyncio.gather(*(self.read(a, r) for a, r in moved.items()))
        into.update(zip(moved, states, strict=True))
        return frozenset(moved)

    async def on_head(self, number: int) -> None:
        block = await self.node.eth.get_block(number)
        logs = await self.node.eth.get_logs(
            {
                "fromBlock": self.head + 1 if self.head >= 0 else number,
                "toBlock": number,
                "address": self.checksummed,
                "topics": [POOL_EVENTS],
            }
        )
        reset = {"forking": {"jsonRpcUrl": self.info["rpc_url"], "blockNumber": number}}
        answer = await self.fork.provider.make_request("anvil_reset", [reset])  # type: ignore[arg-type]
        if "error" in answer:
            raise RuntimeError(f"anvil_reset: {answer['error']}")
        await self.read_moved(list(logs), self.pools)
        self.running = dict(self.pools)
        self.env = BlockEnv(
            number=number + 1,
            timestamp=block["timestamp"] + BLOCK_TIME,
            base_fee=next_base_fee(block["baseFeePerGas"], block["gasUsed"], block["gasLimit"]),
            gas_limit=block["gasLimit"],
            parent_gas_used=block["gasUsed"],
        )
        self.nonce = await self.node.eth.get_transaction_count(self.account.address, number)
        self.head = number
        if self.run.first_head < 0:
            self.run.first_head = number

    async def on_pending(self, tx: Any, arrived_ns: int) -> None:
        tx_hash = tx["hash"].to_0x_hex()
        if tx_hash in self.seen or self.env is None:
            return
        self.seen.add(tx_hash)
        env = self.env
        raw = verified_raw(json.loads(Web3.to_json(tx)))
        if raw is None:
            return  # its fields do not give its hash back
        try:
            sent = await self.fork.eth.send_raw_transaction(raw)
            await self.fork.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            receipt = await self.fork.eth.get_transaction_receipt(sent)
        except (Web3RPCError, ValueError):  # TransactionNotFound too: it was not mined
            await self.fork.provider.make_request("anvil_dropAllTransactions", [])  # type: ignore[arg-type]
            return  # mined already, or its nonce is not next: not pending for us
        moved = await self.read_moved(list(receipt["logs"]), self.running)
        if not moved:
            return
        pending = PendingTx(
            hash=tx_hash,
            sender=tx["from"],
            to=tx.get("to"),
            nonce=tx["nonce"],
            value=tx["value"],
            gas=tx["gas"],
            input=tx["input"].to_0x_hex(),
            max_fee_per_gas=tx.get("maxFeePerGas"),
            max_priority_fee_per_gas=tx.get("maxPriorityFeePerGas"),
            gas_price=tx.get("gasPrice"),
            raw=raw,
        )
        ctx = StrategyContext(
            block=env,
            base_token=self.market.weth.lower(),
            pools=self.running,
            cycles=self.index,
            touched=moved,
            pending=pending,
            seed=env.number,
        )
        for intent in self.strategy.on_pending(ctx, pending):
            self.run.found.add((env.number, intent.key, intent.amount_in))
            await self.send(intent, raw, env, arrived_ns)

    async def send(self, intent: Any, raw: str, env: BlockEnv, arrived_ns: int) -> None:
        cs = Web3.to_checksum_address
        steps = [
            (kind, cs(pool), cs(t_in), cs(t_out), fee, cs(factory), limit, min_out)
            for kind, pool, t_in, t_out, fee, factory, limit, min_out in executor_steps(
                intent, self.v3_factories
            )
        ]
        call = self.executor.functions.execute(
            cs(intent.cycle.base),
            intent.amount_in,
            intent.min_profit,
            intent.bid_bps,
            steps,
        )
        try:
            gas = await call.estimate_gas({"from": self.account.address})
        except (ContractLogicError, Web3RPCError):
            self.run.estimate_failed += 1
            return
        tx = await call.build_transaction(
            {
                "from": self.account.address,
                "nonce": self.nonce,
                "gas": gas * 12 // 10,
                "maxFeePerGas": 2 * env.base_fee + intent.priority_fee,
                "maxPriorityFeePerGas": intent.priority_fee,
                "chainId": self.info["chain_id"],
            }
        )
        signed = self.account.sign_transaction(tx)
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "eth_sendBundle",
                "params": [
                    {
                        "txs": [raw, signed.raw_transaction.to_0x_hex()],
                        "blockNumber": hex(env.number),
                    }
                ],
            }
        )
        digest = Web3.keccak(text=body).to_0x_hex()
        signature = self.identity.sign_message(encode_defunct(text=digest)).signature.to_0x_hex()
        headers = {
            "Content-Type": "application/json",
            "X-Flashbots-Signature": f"{self.identity.address}:{signature}",
        }
        assert self.session is not None
        started_ns = time.perf_counter_ns()
        async with self.session.post(self.info["relay_url"], data=body, headers=headers) as reply:
            answer = await reply.json()
        if "error" in answer:
            raise RuntimeError(f"the relay refused a bundle: {answer['error']}")
        self.run.sent += 1
        self.run.latencies.append((env.number, (started_ns - arrived_ns) / 1e6))

    async def follow(self, until_block: int) -> Web3Run:
        async with (
            aiohttp.ClientSession() as self.session,
            AsyncWeb3(WebSocketProvider(self.info["ws_url"])) as ws,
        ):
            heads = await ws.eth.subscribe("newHeads")
            await ws.eth.subscribe("newPendingTransactions", True)
            await self.on_head(await self.node.eth.block_number)
            async for message in ws.socket.process_subscriptions():
                arrived_ns = time.perf_counter_ns()
                if message["subscription"] == heads:
                    number = message["result"]["number"]
                    if number > self.head:
                        await self.on_head(number)
                    if number >= until_block:
                        break
                else:
                    await self.on_pending(message["result"], arrived_ns)
        return self.run


def run_web3_pipeline(
    info: dict[str, Any],
    strategy: Strategy,
    account: LocalAccount,
    identity: LocalAccount,
    until_block: int,
) -> Web3Run:
    """Follows the devnet described by ``info`` (``workbench devnet up --info``) until it
    mines ``until_block``."""
    with Anvil(AnvilConfig(fork_url=info["rpc_url"], mining="none")) as fork:
        pipeline = Pipeline(info, strategy, account, identity, fork)
        return asyncio.run(pipeline.follow(until_block))
