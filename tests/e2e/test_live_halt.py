"""Halting and restarting a live run on the devnet, with bundles in flight: the kill switch and
SIGTERM withdraw every bundle in flight from the relay before the run stops; after ``kill -9``
a restarted runner takes the risk state over (the bundle in flight for a block to come is in
flight again, never doubled by a new one), and the run reconciles with the chain to the wei."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from eth_account import Account

from devnet import ensure_default_dataset
from devnet.live_node import DevnetNode
from live.risk_state import risk_state_path
from live.signer import SearcherIdentity
from tests.e2e.live_setup import holdings, live_engine
from workbench.chain.tools import project_root
from workbench.rpc import RpcClient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

FIRST = 600


def _our_txs(node: DevnetNode, account: str, first: int, last: int) -> list[tuple[int, int]]:
    """(block, nonce) of each transaction of ``account`` in blocks ``first..last``."""
    rpc = RpcClient(node.rpc_url)
    return [
        (n, int(t["nonce"], 16))
        for n in range(first, last + 1)
        for t in rpc.call("eth_getBlockByNumber", [hex(n), True])["transactions"]
        if t["from"].lower() == account.lower()
    ]


@pytest.mark.parametrize("how", ["kill_switch", "sigterm"])
def test_a_halt_cancels_every_bundle_in_flight(tmp_path: Path, how: str) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    account = Account.create()
    switch = tmp_path / "KILL"
    with DevnetNode(
        ensure_default_dataset(), block_time=1.5, first_block=FIRST, searchers=[account.address]
    ) as node:
        engine = live_engine(node, tmp_path, db, account, node.ws_url, kill_switch=switch)
        out: dict[int, str] = {}  # target block -> replacement UUID, when the halt came

        def halt(kind: str, data: Any) -> None:
            if kind != "decision" or data["action"] != "submitted" or out:
                return
            assert engine.sender is not None
            out.update(
                {t: str(s.bundle.replacement_uuid) for t, s in engine.sender.in_flight.items()}
            )
            if how == "kill_switch":
                switch.touch()
            else:
                os.kill(os.getpid(), signal.SIGTERM)

        async def run() -> None:
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)  # as the CLI
            try:
                await engine.run(stop=stop, until_block=FIRST + 30)
            finally:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)

        engine.publish = halt
        asyncio.run(run())
        stopped_at = engine.head
        last = max(out)
        node.wait_for_block(last + 1, timeout=30)
        ours = _our_txs(node, account.address, max(out), last)
    assert out, "no bundle was sent: nothing to cancel"
    assert stopped_at < FIRST + 30, "the run did not stop"
    assert set(out.values()) <= set(node.relay.cancelled)
    assert engine.tally.cancelled >= len(out)
    assert (engine.halted or "").startswith("kill switch") == (how == "kill_switch")
    assert not ours, f"a cancelled bundle landed: {ours}"


def test_a_runner_killed_with_a_bundle_in_flight_takes_it_over_at_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    account, identity_key = Account.create(), Account.create().key.hex()
    state = tmp_path / "state"
    with DevnetNode(
        ensure_default_dataset(), block_time=1.5, first_block=FIRST, searchers=[account.address]
    ) as node:
        path = risk_state_path(state, node.chain_id, account.address)
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.live_setup"],
            cwd=project_root(),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert child.stdin is not None
            child.stdin.write(
                json.dumps(
                    {
                        "key": account.key.hex(),
                        "identity_key": identity_key,
                        "rpc_url": node.rpc_url,
                        "ws_url": node.ws_url,
                        "relay_url": node.relay_url,
                        "market": str(node.market_file),
                        "chain_id": node.chain_id,
                        "executor": node.executors[account.address],
                        "state_dir": str(state),
                        "db": db,
                    }
                ).encode()
            )
            child.stdin.close()
            deadline = time.monotonic() + 120
            while True:  # until a bundle is in flight for a block not yet mined
                assert child.poll() is None, "the runner died by itself"
                assert time.monotonic() < deadline, "the runner sent no bundle in time"
                saved = orjson.loads(path.read_bytes()) if path.exists() else {"bundles": []}
                ahead = [b for b in saved["bundles"] if b["target_block"] > node.head]
                if ahead:
                    break
                time.sleep(0.05)
            child.send_signal(signal.SIGKILL)  # nothing is cancelled, nothing is saved
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        target = ahead[0]["target_block"]
        taken: list[int] = []
        engine = live_engine(
            node,
            tmp_path,
            db,
            account,
            node.ws_url,
            identity=SearcherIdentity(Account.from_key(identity_key)),
            keep_risk_state=True,
        )
        assert engine.safekeeping is not None
        take_over = engine.safekeeping.take_over

        def counted(rpc: RpcClient, head: int) -> None:
            take_over(rpc, head)
            taken.extend(engine.safekeeping.restored)  # type: ignore[union-attr]
            taken.append(engine.risk.reserved)
            start.append(head)

        start: list[int] = []
        engine.safekeeping.take_over = counted  # type: ignore[method-assign]
        asyncio.run(engine.run(until_block=target + 8))
        head = engine.head
        before = holdings(node, account.address, start[0])
        on_chain = holdings(node, account.address, head) - before
        ours = _our_txs(node, account.address, FIRST, head)
    assert start[0] < target and target in taken[:-1] and taken[-1] > 0  # in flight, at risk
    assert not engine.safekeeping.restored  # settled once its block was processed
    nonces = [n for _, n in ours]
    assert nonces == list(range(len(nonces))), "a nonce was used twice or skipped"
    assert all(n == 1 for n in Counter(b for b, _ in ours).values()), "two of ours in one block"
    assert engine.tally.realised_net == on_chain  # the taken-over bundle's result included
