"""The mempool recorder on a real Anvil that does not mine (so transactions stay pending):
rows match what was sent, a dropped WebSocket is survived, Ctrl-C flushes, and rows are
joined with the blocks that later include them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.cli import app
from workbench.rpc import RpcError, WsClient
from workbench.sources import raw_tx
from workbench.sources.dataset import Dataset
from workbench.sources.ingest import ingest_blocks
from workbench.sources.mempool_recorder import record_mempool

Account.enable_unaudited_hdwallet_features()
MNEMONIC = "test test test test test test test test test test test junk"
ALICE, BOB = (Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in (5, 6))
FEES = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "chainId": 31337}


def signed_txs(first_nonce: int, n: int) -> list[Any]:
    """Alternating EIP-1559 and legacy transfers from ALICE."""
    out = []
    for nonce in range(first_nonce, first_nonce + n):
        tx: dict[str, Any] = {"nonce": nonce, "to": BOB.address, "value": nonce + 1, "gas": 21_000}
        tx |= FEES if nonce % 2 == 0 else {"gasPrice": 10**10, "chainId": 31337}
        out.append(ALICE.sign_transaction(tx))
    return out


async def send(node: Anvil, txs: list[Any]) -> None:
    for s in txs:
        await asyncio.to_thread(
            node.rpc.call, "eth_sendRawTransaction", ["0x" + s.raw_transaction.hex()]
        )


class DroppingProxy:
    """A TCP proxy to the node whose ``drop()`` cuts every open connection (a network blip)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    def drop(self) -> None:
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.drop()
        self.server.close()


def test_records_pending_transactions_through_a_dropped_connection(tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, list[Any], int, int]:
        async with Anvil(AnvilConfig(mining="none")) as node:
            proxy = DroppingProxy(node.port or 0)
            port = await proxy.start()
            txs = signed_txs(0, 6)
            before = time.time_ns() // 1_000_000
            recording = asyncio.create_task(
                record_mempool(
                    f"ws://127.0.0.1:{port}", tmp_path / "d", duration=3.0, flush_seconds=0.3
                )
            )
            await asyncio.sleep(0.5)
            await send(node, txs[:3])
            await asyncio.sleep(0.6)  # flushed as a first part
            proxy.drop()
            while proxy.connections < 2:  # WsClient reconnects and re-subscribes
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            await send(node, txs[3:])
            report = await recording
            after = time.time_ns() // 1_000_000
            await proxy.close()
            return report, txs, before, after

    report, txs, before, after = asyncio.run(scenario())
    assert report.rows == 6 and report.parts >= 2 and not report.hashes_only
    rows = Dataset.open(tmp_path / "d").read("mempool").sort("nonce")
    assert rows["hash"].to_list() == ["0x" + s.hash.hex() for s in txs]
    assert rows["raw"].to_list() == ["0x" + s.raw_transaction.hex() for s in txs]
    assert rows["type"].to_list() == [2, 0, 2, 0, 2, 0]
    assert rows["value"].to_list() == [str(n + 1) for n in range(6)]
    assert set(rows["from"]) == {ALICE.address.lower()} and set(rows["to"]) == {BOB.address.lower()}
    assert all(before <= t <= after for t in rows["first_seen_ms"])
    assert set(rows["source"]) == {report.source} and report.source.startswith("127.0.0.1:")
    assert rows["included_block"].null_count() == 6


def test_hashes_only_node_then_join_with_the_including_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_subscribe = WsClient.subscribe

    async def hashes_only(self: WsClient, kind: str, *params: Any) -> Any:
        if params:
            raise RpcError(-32602, "invalid params", method="eth_subscribe")
        return await real_subscribe(self, kind)

    monkeypatch.setattr(WsClient, "subscribe", hashes_only)
    monkeypatch.setattr(raw_tx, "encode_signed", lambda tx: None)  # raw bytes from the node

    txs = signed_txs(0, 4)

    async def scenario(node: Anvil) -> Any:
        stop = asyncio.Event()
        recording = asyncio.create_task(record_mempool(node.ws_url, tmp_path / "d", stop=stop))
        await asyncio.sleep(0.3)
        await send(node, txs)
        await asyncio.sleep(0.3)
        stop.set()  # what Ctrl-C does in the CLI
        return await recording

    with Anvil(AnvilConfig(mining="none")) as node:
        report = asyncio.run(scenario(node))
        assert report.hashes_only and report.rows == 4 and report.raw_missing == 0
        node.mine()
        ingest_blocks(node.rpc, tmp_path / "blocks", 0, 1)
        result = CliRunner().invoke(
            app,
            [
                "ingest",
                "join",
                "--out",
                str(tmp_path / "d"),
                "--blocks-from",
                str(tmp_path / "blocks"),
            ],
        )
        assert result.exit_code == 0 and "4 pending transaction(s) joined" in result.output
        report = ingest_blocks(node.rpc, tmp_path / "d", 0, 1)  # into the same dataset: joins too
    assert report.mempool_joined == 0  # already joined
    rows = Dataset.open(tmp_path / "d").read("mempool").sort("nonce")
    assert rows["included_block"].to_list() == [1, 1, 1, 1]
    assert rows["nonce"].to_list() == [0, 1, 2, 3]  # fetched by hash
    assert rows["raw"].to_list() == ["0x" + s.raw_transaction.hex() for s in txs]


def test_ctrl_c_stops_the_cli_cleanly(tmp_path: Path) -> None:
    with Anvil(AnvilConfig(mining="none")) as node:
        out = tmp_path / "d"
        cmd = [sys.executable, "-m", "workbench.cli", "ingest", "mempool", "--ws", node.ws_url]
        proc = subprocess.Popen(
            [*cmd, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 20
            while not (out / "manifest.json").exists():  # subscribed once the dataset exists
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
            time.sleep(0.2)
            for s in signed_txs(0, 2):
                node.rpc.call("eth_sendRawTransaction", ["0x" + s.raw_transaction.hex()])
            time.sleep(0.3)
            os.kill(proc.pid, signal.SIGINT)
            output = proc.communicate(timeout=20)[0].decode()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, output
    assert "Traceback" not in output and "2 pending transaction(s)" in output
    assert Dataset.open(out).rows("mempool") == 2
