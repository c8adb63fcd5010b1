"""Rolling replay: one Anvil, block after block (DESIGN.md "Replay"), started from the
dataset's origin: the historical driver of the one block loop (``engine.loop``), with the
simulated executor.

For each block N: the strategy sees the pools as of N-1 (``on_block``) and, for each public
transaction of N that moves known pools, the pools right after it (``on_pending``) as a
searcher could know them: after N's public transactions up to it, never its private ones
(``engine.public_context``); each intent is simulated on the EVM at its modelled position
(top of block, or right after its target) between snapshot and revert; the competition in
the recorded block decides its outcome; then the recorded block itself is replayed as
recorded (``engine.block_apply``), and every receipt is compared with the recording (replay
fidelity). Pool states come from the
dataset's logs (exact, no RPC), seeded once from the node at the start.

Each intent's revert risk is predicted from the public transactions that follow its position
(``execution.slippage``) and realised at the next block: its transaction is called on the
state after the recorded block, as if it had landed one block late.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbench.chain.anvil import Anvil
from workbench.chain.market_spec import MARKET_FILE, DeployedMarket
from workbench.chain.recorded_tx import sendable
from workbench.engine.block_apply import apply_block
from workbench.engine.bootstrap import execution_config, moved_by, watched_pools
from workbench.engine.executor import Placement, SimulatedExecutor
from workbench.engine.loop import BlockLoop, BlockResult, run_to_end
from workbench.engine.public_context import has_private_before, public_context
from workbench.engine.replay_node import ForkSource, replay_node
from workbench.engine.searcher import fork_replay_account, install_searcher
from workbench.errors import DatasetError
from workbench.execution.simulate import AnvilSimulator
from workbench.market.graph import CycleIndex, find_cycles
from workbench.market.market_state import MarketState
from workbench.sources.block_view import BlockData, load_blocks
from workbench.sources.dataset import Dataset
from workbench.sources.origin import ForkOrigin
from workbench.strategy.api import Strategy
from workbench.strategy.context import BlockEnv, PendingTx
from workbench.strategy.models import WinModel

DEFAULT_CAPITAL = 100 * 10**18  # WETH in our Executor


def pending_tx(block: BlockData, tx: dict[str, Any]) -> PendingTx:
    """A recorded transaction as a strategy sees it in the mempool."""
    return pending_from_row(tx, block.first_seen_ms.get(tx["hash"]))


def pending_from_row(tx: Mapping[str, Any], first_seen_ms: int | None) -> PendingTx:
    """A transaction row (dataset columns: transactions or mempool table) as a ``PendingTx``."""

    def num(key: str) -> int | None:
        return None if tx.get(key) is None else int(tx[key])

    return PendingTx(
        hash=tx["hash"],
        sender=tx["from"],
        to=tx.get("to"),
        nonce=int(tx["nonce"]),
        value=int(tx["value"]),
        gas=int(tx["gas"]),
        input=tx["input"],
        max_fee_per_gas=num("max_fee_per_gas"),
        max_priority_fee_per_gas=num("max_priority_fee_per_gas"),
        gas_price=num("gas_price"),
        raw=tx.get("raw"),
        first_seen_ms=first_seen_ms,
    )


class Replay:
    """A replay of a dataset's blocks with one strategy on one Anvil, started from the
    dataset's origin."""

    def __init__(
        self,
        root: Path | str,
        strategy: Strategy,
        *,
        capital: int = DEFAULT_CAPITAL,
        inclusion: WinModel | None = None,
        fork: ForkSource | None = None,
        market: Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.strategy = strategy
        self.capital = capital
        self.inclusion = inclusion
        self.fork = fork
        self.dataset = Dataset.open(self.root)
        self.market = load_market(market or self.root / MARKET_FILE)
        self.forked = isinstance(self.dataset.origin, ForkOrigin)
        self.genesis_block = self.dataset.origin.block_number  # the state replays start from
        if self.market.chain_id != self.dataset.chain_id:
            raise DatasetError(
                f"the market is of chain {self.market.chain_id}, the dataset {self.root} of "
                f"chain {self.dataset.chain_id}: pass the market of the dataset's chain"
            )

    def check_range(self, first: int, last: int) -> None:
        held = self.dataset.block_range
        if held is None:
            raise DatasetError(f"{self.root} holds no blocks")
        if last < first or first <= self.genesis_block or last > held[1]:
            start = "its first block" if self.forked else "its genesis state"
            raise DatasetError(
                f"blocks {first}-{last} are not replayable: {self.root} holds blocks "
                f"{self.genesis_block + 1}-{held[1]} after {start}; pick a range within them"
            )
        gaps = self.dataset.missing_blocks(self.genesis_block + 1, last)
        if gaps:
            a, b = gaps[0]
            raise DatasetError(
                f"{self.root} has a gap: blocks {a}-{b} are missing (ingest them first, e.g. "
                f"`workbench ingest --rpc URL --blocks {a}-{b} --out {self.root}`)"
            )

    @contextmanager
    def _node(self, first: int) -> Iterator[Anvil]:
        if self.forked:  # a fork starts where the chunk does: no prefix is replayed
            with replay_node(self.dataset, fork=self.fork, at=first - 1) as node:
                yield node
            return
        with replay_node(self.dataset) as node:
            for block in (
                load_blocks(self.dataset, self.genesis_block + 1, first - 1)
                if first > self.genesis_block + 1
                else ()
            ):
                apply_block(node, block)  # fast-forward to the parent of ``first``
            yield node

    def run(
        self, first: int, last: int, on_block: Callable[[BlockResult], None] | None = None
    ) -> list[BlockResult]:
        self.check_range(first, last)
        return run_to_end(self._run(first, last, on_block))

    async def _run(
        self, first: int, last: int, on_block: Callable[[BlockResult], None] | None
    ) -> list[BlockResult]:
        results = []
        with self._node(first) as node:
            pools = watched_pools(node.rpc, self.market)
            state = MarketState(pools, unknown_pools="ignore")
            account = fork_replay_account() if self.forked else None
            searcher = install_searcher(node, self.market.weth, self.capital, account)
            self._searcher = searcher
            cfg = execution_config(self.market, self.market.chain_id, searcher.executor)
            loop = BlockLoop(
                self.strategy,
                SimulatedExecutor(AnvilSimulator(node, searcher.account, cfg)),
                base_token=self.market.weth,
                cycles=CycleIndex.of(find_cycles(pools, self.market.weth)),
                inclusion=self.inclusion,
            )
            touched = self._moved_in(first - 1, state)
            parent_gas = self._gas_used(first - 1)
            for block in load_blocks(self.dataset, first, last):
                result, touched = await self._block(node, loop, state, block, touched, parent_gas)
                parent_gas = block.gas_used
                results.append(result)
                if on_block is not None:
                    on_block(result)
        return results

    def _moved_in(self, number: int, state: MarketState) -> frozenset[str]:
        """Pools that block ``number`` moved (every pool before the first block): the first
        replayed block sees what an uninterrupted run would, so a resumed or split run gives
        the same results."""
        if number <= self.genesis_block:
            return frozenset(state.pools)
        return moved_by(self.dataset.read("logs", (number, number)).to_dicts(), state.pools)

    def _gas_used(self, number: int) -> int:
        """Gas used by block ``number`` (0 for the genesis state, which has no block row)."""
        if number <= self.genesis_block:
            return 0
        return int(self.dataset.read("blocks", (number, number))["gas_used"][0])

    async def _block(
        self,
        node: Anvil,
        loop: BlockLoop,
        state: MarketState,
        block: BlockData,
        touched: frozenset[str],
        parent_gas_used: int,
    ) -> tuple[BlockResult, frozenset[str]]:
        env = BlockEnv(
            number=block.number,
            timestamp=block.timestamp,
            base_fee=block.base_fee,
            gas_limit=block.gas_limit,
            parent_gas_used=parent_gas_used,
        )
        loop.open(env, block.miner, state.pools, touched)
        await loop.top_of_block()
        running = dict(state.pools)
        parent = dict(running)
        events = state.apply_all(block.logs)
        moved = frozenset(e.address.lower() for e in events)
        for position, tx in enumerate(block.transactions):
            its_pools = {
                e.address.lower() for e in events if e.transaction_index == tx["transaction_index"]
            }
            for addr in its_pools:
                running[addr] = state.state_after(
                    addr, block.number, _last_log(events, tx["transaction_index"], addr)
                )
            if tx["hash"] not in block.first_seen_ms or not its_pools:
                continue  # private (never in the mempool: nobody could backrun it), or no move
            used = int(block.receipts[tx["hash"]]["cumulative_gas_used"])
            before = tuple(sendable(t) for t in block.transactions[: position + 1])
            pools, moved_now = running, frozenset(its_pools)
            if has_private_before(block, position):  # not what a searcher could know
                context = public_context(node, block, position, parent)
                if context is None or not context.moved:
                    continue
                before, pools, moved_now = context.before, context.pools, context.moved
            placement = Placement(position, before=before, gas_left=block.gas_limit - used)
            await loop.pending(pending_tx(block, tx), placement, moved_now, pools)
        fidelity = apply_block(node, block, upstream_errors=self._failed if self.forked else None)
        if fidelity.mismatches and self.forked:
            # A diverged block must not poison the rest: the next starts on a fresh fork of
            # the archive node at this block, with our searcher installed again.
            node.reset(node.config.fork_url, block.number)
            install_searcher(node, self.market.weth, self.capital, self._searcher.account)
            fidelity.reforked = True
        return loop.close(block, fidelity), moved

    def _failed(self) -> int:
        return self.fork.stats.failed if self.fork else 0


def load_market(path: Path) -> DeployedMarket:
    """The market a replay watches (a dataset's ``market.json``, or a file given)."""
    if path.is_dir():
        path = path / MARKET_FILE
    if not path.is_file():
        raise DatasetError(
            f"{path} does not exist: the replay needs the market to watch (its pools and "
            "tokens; `workbench devnet generate` writes one into the dataset); pass --market FILE"
        )
    return DeployedMarket.load(path)


def _last_log(events: list[Any], tx_index: int, address: str) -> int:
    return max(
        e.log_index
        for e in events
        if e.transaction_index == tx_index and e.address.lower() == address
    )
