"""What the live devnet can be made to suffer between two slots, for the runner's tests: its
node killed and restarted from a dump of its state (``restart_node``), and a reorg
(``reorg``): its last blocks rolled back and mined again with the recorded transactions only,
so every searcher's bundle in them is orphaned (as when another builder's blocks win), by
another coinbase, so each new block has another hash even where no bundle was in it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

from devnet.builder import BuiltBlock
from devnet.config import DevnetError
from devnet.setup import read_genesis, write_genesis
from workbench.chain.anvil import Anvil

REORG_COINBASE = "0x000000000000000000000000000000000000dead"


def remine(
    node: Anvil, orphaned: Sequence[BuiltBlock], recorded: Collection[str]
) -> list[BuiltBlock]:
    """Rolls ``node`` back below ``orphaned`` (its last blocks, in order) and mines each again
    from its transactions whose hash is in ``recorded``; the pool is left empty. Returns the
    new blocks."""
    rpc = node.rpc
    kept: list[list[str]] = []
    for built in orphaned:
        block = rpc.call("eth_getBlockByNumber", [hex(built.number), False])
        hashes = [h for h in block["transactions"] if h in recorded]
        kept.append([rpc.call("eth_getRawTransactionByHash", [h]) for h in hashes])
    rpc.call("anvil_rollback", [len(orphaned)])
    out = []
    for built, raws in zip(orphaned, kept, strict=True):
        rpc.call("anvil_dropAllTransactions")
        for raw in raws:
            rpc.call("eth_sendRawTransaction", [raw])
        rpc.call("anvil_setCoinbase", [REORG_COINBASE])
        node.mine(timestamp=built.timestamp)
        block = rpc.call("eth_getBlockByNumber", ["latest", False])
        if int(block["number"], 16) != built.number or len(block["transactions"]) != len(raws):
            raise DevnetError(
                f"re-mining block {built.number} gave block {int(block['number'], 16)} with "
                f"{len(block['transactions'])} of its {len(raws)} recorded transactions"
            )
        out.append(
            dataclasses.replace(
                built, hash=block["hash"], tx_count=len(raws), bundles=(), rejected=()
            )
        )
    return out


class Disruptions:
    """``DevnetNode``'s disruptions; requested from any thread, done by its driver between
    two slots."""

    _node: Anvil | None
    _tmp: Path | None
    _rpc_port: int
    _pending: dict[str, str]
    _recorded_hashes: set[str]
    _restart: tuple[float, threading.Event] | None
    _reorg: tuple[int, threading.Event] | None
    _error: BaseException | None
    _stop: threading.Event
    _mined: threading.Condition
    built: list[BuiltBlock]

    def _check_head(self, expected: str) -> None:  # DevnetNode's
        raise NotImplementedError

    def _send_recorded(self, h: str, raw: str) -> None:  # DevnetNode's
        raise NotImplementedError

    def restart_node(self, downtime: float, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Between two slots: dump the state, SIGKILL Anvil, wait ``downtime`` seconds, start
        it again on the same port from the dump, check the head. Blocks until done if ``wait``."""
        done = threading.Event()
        self._restart = (downtime, done)
        if wait and not done.wait(timeout) and self._error is None:
            raise TimeoutError(f"the node was not restarted within {timeout:g}s")
        if self._error is not None:
            raise self._error

    def reorg(self, depth: int, *, timeout: float = 60.0) -> list[BuiltBlock]:
        """Before the next block: its last ``depth`` blocks orphaned and mined again without
        bundles (``remine``); the next block builds on them. Blocks until done; returns
        the new blocks."""
        if depth < 1:
            raise ValueError(f"a reorg is at least 1 block deep, got {depth}")
        done = threading.Event()
        self._reorg = (depth, done)
        if not done.wait(timeout) and self._error is None:
            raise TimeoutError(f"the reorg was not done within {timeout:g}s")
        if self._error is not None:
            raise self._error
        with self._mined:
            return self.built[-depth:]

    def _reorg_now(self, depth: int) -> None:
        assert self._node is not None
        with self._mined:
            if depth > len(self.built):
                raise DevnetError(f"a reorg of {depth} blocks: only {len(self.built)} were mined")
            orphaned = self.built[-depth:]
        new = remine(self._node, orphaned, self._recorded_hashes)
        with self._mined:
            self.built[-depth:] = new
        pending, self._pending = self._pending, {}
        for h, raw in pending.items():  # the pool was emptied
            self._send_recorded(h, raw)

    def _restart_now(self, downtime: float) -> None:
        node = self._node
        assert node is not None and node.proc is not None and self._tmp is not None
        head = node.rpc.call("eth_getBlockByNumber", ["latest", False])["hash"]
        dump = self._tmp / "restart.json.gz"
        write_genesis(node.dump_state(), dump)
        state = self._tmp / "restart.json"
        state.write_bytes(read_genesis(dump))
        node.proc.kill()  # hard, as a crash would
        node.proc.wait()
        node.stop()
        if self._stop.wait(downtime):
            return
        config = dataclasses.replace(node.config, load_state=state, port=self._rpc_port)
        self._node = Anvil(config).start()
        self._check_head(head)
        pending, self._pending = self._pending, {}
        for h, raw in pending.items():  # the pool did not survive
            self._send_recorded(h, raw)
