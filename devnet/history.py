"""The block loop: each 12 s slot, agents send transactions into the simulated mempool, then
the builder includes what arrived in time, by priority fee, and Anvil mines the block at its
timestamp (automine is off: Anvil includes exactly what it is sent, in order, up to the gas
limit). Pool states follow the mined logs, so agents always see the real chain.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

from devnet.agents import Routes, Trader, TradingSlot, informed_order, noise_orders
from devnet.bots import Bot
from devnet.config import DevnetConfig, DevnetError
from devnet.keys import stream
from devnet.mempool import Mempool, MempoolEntry
from devnet.prices import reference_path
from devnet.setup import Genesis
from devnet.spec import PoolInfo
from devnet.trades import PoolState, simulate
from workbench.chain.anvil import Anvil
from workbench.chain.eip1559 import next_base_fee
from workbench.market.events import decode_log
from workbench.market.fetch import fetch_pool_state
from workbench.market.market_state import next_state
from workbench.market.uniswap_v2 import V2Swap
from workbench.market.uniswap_v3 import V3Swap


@dataclass(slots=True)
class Head:
    number: int
    timestamp: int
    base_fee: int
    gas_used: int


@dataclass(slots=True)
class MinedBlock:
    """A block as the node returned it, with its receipts."""

    block: dict[str, Any]
    receipts: list[dict[str, Any]]


@dataclass(slots=True)
class HistoryTally:
    """What happened, for devnet.json and the command's summary."""

    swaps: Counter[str] = field(default_factory=Counter)  # per venue
    reverted: int = 0
    bot_txs: Counter[str] = field(default_factory=Counter)
    bot_reverted: Counter[str] = field(default_factory=Counter)
    base_fees: list[int] = field(default_factory=list)
    priority_fees: int = 0
    disagreements: int = 0  # statuses or pool states where exact math and EVM differ


class History:
    """Runs slots after ``genesis`` on ``node``; ``sent`` keeps every transaction made, by hash."""

    def __init__(
        self, node: Anvil, config: DevnetConfig, genesis: Genesis, pools: tuple[PoolInfo, ...]
    ) -> None:
        self.node, self.config, self.genesis = node, config, genesis
        self.pools = {p.address: p for p in pools}
        self.states: dict[str, PoolState] = {  # the devnet trades on V2 and V3 pools only
            p.address: cast(
                PoolState,
                fetch_pool_state(node.rpc, p.address, kind="v3" if p.is_v3 else "v2", fee=p.fee),
            )
            for p in pools
        }
        self.routes = Routes(pools)
        self.reference = reference_path(config.seed, config.blocks)
        self.mempool = Mempool()
        self.sent: dict[str, MempoolEntry] = {}
        self.tally = HistoryTally()
        by_role: dict[str, list[Trader]] = {"noise": [], "informed": [], "bot": []}
        for agent in genesis.agents:
            nonce = node.rpc.call("eth_getTransactionCount", [agent.account.address, "latest"])
            by_role[agent.role].append(Trader(agent, int(nonce, 16)))
        self.noise, self.informed = by_role["noise"], by_role["informed"]
        weth = genesis.market.weth
        self.bots = sorted(
            (
                Bot(p, t, pools, self.states, weth)
                for p, t in zip(config.bots, by_role["bot"], strict=True)
            ),
            key=lambda b: b.params.decide_at_ms,
        )
        self.head = Head(genesis.number, genesis.timestamp, genesis.base_fee, genesis.gas_used)
        self.slot_index = 0

    def step(self) -> MinedBlock:
        """One slot: agents act, the builder fills the block, Anvil mines it."""
        c, head = self.config, self.head
        self.slot_index += 1
        number, timestamp = head.number + 1, head.timestamp + c.block_time
        base_fee = next_base_fee(head.base_fee, head.gas_used, c.block_gas_limit)
        slot = TradingSlot(
            number=number,
            start_ms=head.timestamp * 1000,
            length_ms=c.block_time * 1000,
            base_fee=base_fee,
            reference=self.reference[self.slot_index],
            states=self.states,
        )
        self._agents_act(slot)
        order = self.mempool.block_order(timestamp * 1000 - c.build_cutoff_ms, base_fee)
        for tx in order:
            self.node.rpc.call("eth_sendRawTransaction", ["0x" + tx.raw.hex()])
        self.node.mine(timestamp=timestamp)
        block, receipts = self.node.rpc.batch(
            [("eth_getBlockByNumber", [hex(number), True]), ("eth_getBlockReceipts", [hex(number)])]
        )
        if isinstance(block, Exception) or isinstance(receipts, Exception):
            raise DevnetError(f"block {number}: the node did not return it ({block or receipts})")
        if len(block["transactions"]) < len(order):
            self.node.rpc.call("anvil_dropAllTransactions")  # the rest waits in our mempool
        if int(block["baseFeePerGas"], 16) != base_fee:
            raise DevnetError(
                f"block {number}: Anvil's base fee {int(block['baseFeePerGas'], 16)} is not the "
                f"EIP-1559 value {base_fee}; the builder's fee checks would be wrong"
            )
        self._settle(number, block, receipts, base_fee)
        self.head = Head(number, timestamp, base_fee, int(block["gasUsed"], 16))
        return MinedBlock(block, receipts)

    def _agents_act(self, slot: TradingSlot) -> None:
        seed, market, chain_id = self.config.seed, self.genesis.market, self.config.chain_id
        for role, traders in (("noise", self.noise), ("informed", self.informed)):
            for i, trader in enumerate(traders):
                rng = stream(seed, role, i, slot.number)
                if role == "noise":
                    orders = noise_orders(self.config.noise, slot, self.routes, rng)
                else:
                    order = informed_order(
                        self.config.informed, slot, tuple(self.pools.values()), rng
                    )
                    orders = [order] if order else []
                for seen, trade, tip in sorted(orders, key=lambda o: o[0]):
                    self._add(
                        trader.emit(
                            trade,
                            slot=slot,
                            market=market,
                            chain_id=chain_id,
                            first_seen_ms=seen,
                            tip=tip,
                        )
                    )
        for bot in self.bots:
            rng = stream(seed, "bot", bot.params.name, slot.number)
            if tx := bot.decide(slot, self.mempool, market, chain_id, rng):
                self._add(tx)

    def _add(self, tx: MempoolEntry) -> None:
        self.mempool.add(tx)
        self.sent[tx.hash] = tx

    def _settle(
        self, number: int, block: dict[str, Any], receipts: list[dict[str, Any]], base_fee: int
    ) -> None:
        """Marks the included transactions, moves the pools, counts what happened, and
        checks the exact AMM math against the EVM: every status and every pool state."""
        t = self.tally
        t.base_fees.append(base_fee)
        status = {r["transactionHash"]: int(r["status"], 16) for r in receipts}
        predicted = dict(self.states)
        for item in block["transactions"]:
            tx = self.mempool.pending.pop(item["hash"], None)
            if tx is None:
                raise DevnetError(f"block {number} holds {item['hash']}, which nobody sent")
            tx.included_block = number
            succeeds = simulate(tx.trade, predicted) is not None
            t.disagreements += succeeds != (status[tx.hash] == 1)
            if tx.agent in {b.params.name for b in self.bots}:
                t.bot_txs[tx.agent] += 1
                t.bot_reverted[tx.agent] += status[tx.hash] == 0
            t.reverted += status[tx.hash] == 0
        for bot in self.bots:
            if bot.pending is not None and bot.pending not in self.mempool.pending:
                bot.pending = None
        for r in receipts:
            t.priority_fees += int(r["gasUsed"], 16) * (int(r["effectiveGasPrice"], 16) - base_fee)
            for log in r["logs"]:
                event = decode_log(log)
                if event is None or event.address not in self.states:
                    continue
                self.states[event.address] = cast(
                    PoolState, next_state(self.states[event.address], event)
                )
                if isinstance(event, V2Swap | V3Swap):
                    t.swaps[self.pools[event.address].venue] += 1
        t.disagreements += sum(predicted[a] != s for a, s in self.states.items())
