"""A live devnet: the recorded devnet chain replayed on a wall clock, with a builder relay.

``DevnetNode(dataset)`` starts an Anvil at the dataset's genesis, fast-forwards to
``first_block`` and then, on a background thread, plays one recorded block per ``block_time``
seconds: in the slot it announces the block's recorded transactions (the noise and informed
traders and the two arbitrage bots, our competition) to Anvil's pool in block order, evenly
over the first ``announce_fraction`` of the slot, each in the middle of its share, counted
from when the slot's parent block was mined (so none arrives together with that block: on a
real network few do); at the slot's end it builds the block: the
best bundles the relay received for it on top (``builder``), then the recorded transactions
(and those left over from earlier blocks), mined at the recorded timestamp with Anvil's own
base fee. Without bundles the chain is the dataset's. After the last recorded block, empty
blocks follow every ``block_time``.

When bundles are included the pool is emptied and the recorded transactions are sent again
after them, so ``newPendingTransactions`` subscribers see those a second time: dedupe by hash.
``eth_callBundle`` runs on a second Anvil forked from this one, so it never disturbs the pool.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from devnet.builder import (
    BlockSlot,
    BuiltBlock,
    IncludedBundle,
    RejectedBundle,
    Selection,
    TrialBlock,
    select_bundles,
    trial,
)
from devnet.config import DevnetError
from devnet.disruptions import Disruptions
from devnet.rebuild import load_info
from devnet.relay_server import CallRequest, RelayServer
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.executor_install import install_executor
from workbench.chain.flashbots import tx_hash
from workbench.chain.market_spec import MARKET_FILE, DeployedMarket
from workbench.engine.replay_node import genesis_config
from workbench.errors import DatasetError, RpcError, WorkbenchError
from workbench.sources.block_view import BlockData, load_blocks
from workbench.sources.dataset import Dataset
from workbench.sources.origin import GenesisOrigin
from workbench.types import address

EXECUTORS_FROM = 0xE8EC0800  # searcher i's Executor is installed at 0x…e8ec0801 + i


class DevnetNode(Disruptions):
    """The live devnet; ``with DevnetNode(root) as node:`` or ``start()`` / ``stop()``."""

    def __init__(
        self,
        dataset_root: Path | str,
        *,
        block_time: float = 12.0,
        first_block: int | None = None,
        announce_fraction: float = 0.5,
        searchers: Sequence[str] = (),
        searcher_weth: int = 100 * 10**18,
        searcher_eth: int = 10**20,
        rpc_port: int | None = None,
        relay_port: int | None = None,
        include_bundles: bool = True,
    ) -> None:
        self.root = Path(dataset_root)
        self.include_bundles = include_bundles  # else bundles are taken, never mined
        self.info = load_info(self.root)
        self.dataset = Dataset.open(self.root)
        self.market_file = self.root / MARKET_FILE
        self.market = DeployedMarket.load(self.market_file)
        self.genesis = int(self.info["genesis"]["block_number"])
        held = self.dataset.block_range
        if held is None:
            raise DatasetError(f"{self.root} holds no blocks")
        self.last_recorded = held[1]
        self.first_block = self.genesis + 1 if first_block is None else first_block
        if not self.genesis < self.first_block <= self.last_recorded:
            raise DatasetError(
                f"first block {self.first_block} is outside {self.root}: it holds blocks "
                f"{self.genesis + 1}-{self.last_recorded} after its genesis state"
            )
        if block_time <= 0 or not 0 <= announce_fraction <= 1:
            raise ValueError("block_time must be > 0 and announce_fraction in 0..1")
        self.block_time = block_time
        self.announce_fraction = announce_fraction
        self.searchers = [address(s) for s in searchers]
        self.searcher_weth, self.searcher_eth = searcher_weth, searcher_eth
        self.chain_id = int(self.info["chain"]["chain_id"])
        self.coinbase = str(self.info["chain"]["coinbase"])
        self.executors: dict[str, str] = {
            s: address(f"0x{EXECUTORS_FROM + i + 1:040x}") for i, s in enumerate(self.searchers)
        }
        self.built: list[BuiltBlock] = []
        self._rpc_port, self._relay_port = rpc_port or 0, relay_port or 0
        self._recorded: dict[int, BlockData] = {}
        self._pending: dict[str, str] = {}  # recorded txs in the pool, by hash, in pool order
        self._skipped = 0
        self._node: Anvil | None = None
        self._fork: Anvil | None = None
        self._fork_lock = threading.Lock()
        self._relay: RelayServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._mined = threading.Condition()
        self._error: BaseException | None = None
        self._restart: tuple[float, threading.Event] | None = None
        self._reorg: tuple[int, threading.Event] | None = None
        self._recorded_hashes: set[str] = set()
        self._tmp: Path | None = None  # the genesis and restart state files

    # ---- what clients connect to ---------------------------------------------------------

    @property
    def port(self) -> int:
        if not self._rpc_port:
            raise WorkbenchError("the devnet is not running; start() it first")
        return self._rpc_port

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def relay(self) -> RelayServer:
        if self._relay is None:
            raise WorkbenchError("the devnet is not running; start() it first")
        return self._relay

    @property
    def relay_url(self) -> str:
        return self.relay.url

    @property
    def head(self) -> int:
        """The latest block mined."""
        with self._mined:
            return self.built[-1].number if self.built else self.first_block - 1

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> DevnetNode:
        try:
            self._start()
        except BaseException:
            self.stop(raise_error=False)
            raise
        return self

    def _start(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="devnet-live-"))
        genesis = self._tmp / "genesis.json"
        origin = self.dataset.origin
        if not isinstance(origin, GenesisOrigin):
            raise DevnetError(f"{self.root} is not a devnet history: it has no genesis state")
        genesis.write_bytes(origin.state_bytes(self.root))
        config = dataclasses.replace(
            genesis_config(self.dataset, origin, genesis), port=self._rpc_port
        )
        self._node = node = Anvil(config).start()
        self._rpc_port = node._require_port()
        self._check_head(self.info["genesis"]["block_hash"])
        blocks = load_blocks(self.dataset, self.genesis + 1, self.last_recorded)
        self._recorded = {b.number: b for b in blocks}
        self._recorded_hashes = {t["hash"] for b in self._recorded.values() for t in b.transactions}
        if self.first_block == self.genesis + 1:
            self._install_searchers()
        for n in range(self.genesis + 1, self.first_block):  # fast-forward, no waiting
            if n == self.first_block - 1:
                # Before the head is mined, so that its state holds them: Anvil answers
                # queries at a block number (forks ask so) from the state mined then.
                self._install_searchers()
            block = self._recorded.pop(n)
            for tx in block.transactions:
                node.rpc.call("eth_sendRawTransaction", [tx["raw"]])
            node.rpc.call("anvil_setCoinbase", [block.miner])
            node.mine(timestamp=block.timestamp)
        self._fork = Anvil(
            AnvilConfig(
                fork_url=self.rpc_url,
                chain_id=self.chain_id,
                hardfork=config.hardfork,
                gas_limit=config.gas_limit,
                mining="none",
                order="fifo",
            )
        ).start()
        try:
            self._relay = RelayServer(self._call_bundle, port=self._relay_port).start()
        except OSError as exc:
            raise DevnetError(
                f"the relay cannot listen on 127.0.0.1:{self._relay_port}: {exc.strerror}"
            ) from None
        self._thread = threading.Thread(target=self._drive, name="devnet-driver", daemon=True)
        self._thread.start()

    def _install_searchers(self) -> None:
        node = self._node
        assert node is not None
        for owner, at in self.executors.items():
            install_executor(node, owner, self.market.weth, self.searcher_weth, at)
            node.set_balance(owner, self.searcher_eth)

    def _check_head(self, expected: str) -> None:
        assert self._node is not None
        head = self._node.rpc.call("eth_getBlockByNumber", ["latest", False])
        if head["hash"] != expected:
            raise DevnetError(
                f"the loaded state's head is block {int(head['number'], 16)} {head['hash']}, "
                f"not {expected}: the state file or Anvil differs"
            )

    def stop(self, *, raise_error: bool = True) -> None:
        """Stops the driver, the relay and both Anvils (safe at any time, idempotent); then
        raises what failed in the driver, if anything did."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        for part in (self._relay, self._fork, self._node):
            if part is not None:
                part.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        with self._mined:
            self._mined.notify_all()
        if raise_error and self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> DevnetNode:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop(raise_error=exc_type is None)

    def wait_for_block(self, number: int, timeout: float = 60.0) -> BuiltBlock:
        """The block ``number`` once mined; ``TimeoutError`` after ``timeout`` seconds, and
        whatever failed in the driver if it stopped."""
        deadline = time.monotonic() + timeout
        with self._mined:
            while True:
                if self._error is not None:
                    raise self._error
                found = [b for b in self.built if b.number == number]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    raise TimeoutError(f"block {number} was not mined within {timeout:g}s")
                self._mined.wait(min(left, 0.5))

    # ---- the driver ----------------------------------------------------------------------

    def _drive(self) -> None:
        try:
            start, slot = time.monotonic(), 0
            while not self._stop.is_set():
                number = self.first_block + slot
                # the slot's transactions follow its parent block, however long that took
                self._announce(number, max(start + slot * self.block_time, time.monotonic()))
                if self._stop.wait(
                    max(0.0, start + (slot + 1) * self.block_time - time.monotonic())
                ):
                    return
                if self._reorg is not None:
                    depth, reorged = self._reorg
                    self._reorg = None
                    self._reorg_now(depth)
                    reorged.set()
                built = self._build(number)
                with self._mined:
                    self.built.append(built)
                    self._mined.notify_all()
                slot += 1
                if self._restart is not None:
                    downtime, done = self._restart
                    self._restart = None
                    self._restart_now(downtime)
                    start = time.monotonic() - slot * self.block_time  # later slots shift
                    done.set()
        except BaseException as exc:  # surfaced by wait_for_block and stop
            with self._mined:
                self._error = exc
                self._mined.notify_all()

    def _announce(self, number: int, slot_start: float) -> None:
        assert self._node is not None
        block = self._recorded.get(number)
        txs = block.transactions if block else []
        spread = self.announce_fraction * self.block_time / max(len(txs), 1)
        for i, tx in enumerate(txs):
            if self._stop.wait(max(0.0, slot_start + (i + 0.5) * spread - time.monotonic())):
                return
            self._send_recorded(tx["hash"], tx["raw"])

    def _send_recorded(self, h: str, raw: str) -> None:
        assert self._node is not None
        try:
            self._node.rpc.call("eth_sendRawTransaction", [raw])
        except RpcError:
            self._pending.pop(h, None)
            self._skipped += 1  # e.g. its nonce was used by a bundle: it can never land
            return
        self._pending[h] = raw

    def _slot(self, number: int) -> BlockSlot:
        block = self._recorded.get(number)
        if block is not None:
            return BlockSlot(number, block.timestamp, block.miner)
        last = self.built[-1].timestamp if self.built else 0
        return BlockSlot(number, last + int(self.info["chain"]["block_time"]), self.coinbase)

    def _build(self, number: int) -> BuiltBlock:
        node = self._node
        assert node is not None and self._relay is not None
        slot = self._slot(number)
        bundles = self._relay.bundles_for(number) if self.include_bundles else []
        selection = Selection()
        if bundles:
            # Trials run on the fork: trial blocks mined on the node itself would show in its
            # newHeads and RPC answers (phantom blocks that a client would take for a reorg).
            with self._fork_lock:
                fork = self._fork
                if fork is None:
                    raise WorkbenchError("the devnet is stopping")
                fork.reset(self.rpc_url, number - 1)
                selection = select_bundles(fork, bundles, slot, self._pending)
            node.rpc.call("anvil_dropAllTransactions")
            in_bundles = {tx_hash(r) for r in selection.raws}
            for raw in selection.raws:
                node.rpc.call("eth_sendRawTransaction", [raw])
            for h, raw in list(self._pending.items()):
                if h not in in_bundles:
                    self._send_recorded(h, raw)
        node.rpc.call("anvil_setCoinbase", [slot.coinbase])
        node.mine(timestamp=slot.timestamp)
        block = node.rpc.call("eth_getBlockByNumber", ["latest", False])
        if int(block["number"], 16) != number:
            raise DevnetError(f"mined block {int(block['number'], 16)}, expected {number}")
        mined = set(block["transactions"])
        for raw in selection.raws:
            if (h := tx_hash(raw)) not in mined and h not in self._pending:
                node.rpc.call("anvil_dropTransaction", [h])
        included = sum(h in mined for h in self._pending)
        self._pending = {h: r for h, r in self._pending.items() if h not in mined}
        skipped, self._skipped = self._skipped, 0
        self._recorded.pop(number, None)
        return BuiltBlock(
            number=number,
            hash=block["hash"],
            timestamp=slot.timestamp,
            tx_count=len(mined),
            bundles=tuple(
                IncludedBundle(i.bundle.hash, i.bundle.signer, i.payment, i.bundle.tx_hashes)
                for i in selection.included
            ),
            rejected=tuple(
                RejectedBundle(r.bundle.hash, r.bundle.signer, r.reason) for r in selection.rejected
            ),
            recorded_included=included,
            carried=len(self._pending),
            skipped=skipped,
        )

    # ---- eth_callBundle on the fork ------------------------------------------------------

    def _call_bundle(self, request: CallRequest) -> tuple[TrialBlock, int]:
        with self._fork_lock:
            fork = self._fork
            if fork is None:
                raise WorkbenchError("the devnet is stopping")
            state = request.state_block
            if state is None:
                state = self.head
            fork.reset(self.rpc_url, state)
            slot = self._slot(state + 1)
            if request.timestamp is not None:
                slot = dataclasses.replace(slot, timestamp=request.timestamp)
            return trial(fork, request.txs, slot, trace=True), state
