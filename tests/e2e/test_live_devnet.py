"""The live runner end to end on the devnet: a real Anvil node replaying the devnet flow on a
wall clock, its real WebSocket, and the devnet builder relay.

- shadow mode makes the same decisions as a backtest of the same blocks (same strategy object
  type and config: same intents, simulations, outcomes, revert risk);
- live mode wins real opportunities: its bundles land, and the reconciled PnL equals the
  on-chain change of the searcher's ETH and its Executor's WETH to the wei;
- through faults (relay 500s and timeouts, a dropped WebSocket, the node killed and
  restarted) it misses no block, never uses a nonce twice and never has the same bundle
  accepted twice for one target block.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eth_account import Account

from devnet import ensure_default_dataset
from devnet.live_node import DevnetNode
from live.engine import LiveEngine
from live.risk import RiskLimits, RiskManager
from tests.e2e.live_setup import holdings, live_engine, reconcile
from workbench.engine.backtest import BacktestRequest, run_backtest
from workbench.strategy.api import create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

FIRST = 600  # the devnet replays from here (its head starts at FIRST - 1)
ROWS = sa.text(
    "select o.block_number, o.key, o.amount_in, o.expected_profit, o.min_profit, o.bid_bps,"
    " o.priority_fee, o.after_tx, s.status, s.profit, s.gas_used, s.bid_paid, s.gas_cost,"
    " u.outcome, u.competitor_tx, o.predicted_revert, o.reverts_next_block"
    " from opportunities o join simulations s on s.opportunity_id = o.id"
    " join outcomes u on u.opportunity_id = o.id"
    " where o.run_id = :run and o.block_number between :a and :b"
    " order by o.block_number, o.key"
)


@pytest.fixture(scope="module")
def dataset() -> Path:
    return ensure_default_dataset()


def _rows(db: str, run: int, first: int, last: int) -> list[tuple[object, ...]]:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(ROWS, {"run": run, "a": first, "b": last})]
    finally:
        engine.dispose()


def _run(engine: LiveEngine, until: int) -> None:
    asyncio.run(engine.run(until_block=until))


def _shadow_engine(node: DevnetNode, db: str, strategy: Any, name: str) -> LiveEngine:
    return LiveEngine(
        strategy=strategy,
        strategy_name=name,
        config={},
        rpc_url=node.rpc_url,
        ws_url=node.ws_url,
        market=node.market,
        risk=RiskManager(RiskLimits(capital_cap=2 * 10**18)),
        db_url=db,
        poll_seconds=0.3,
    )


def test_shadow_makes_the_backtests_decisions(dataset: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    strategy = "backrun_arb"
    with DevnetNode(dataset, block_time=1.5, first_block=FIRST) as node:
        engine = _shadow_engine(node, db, create(strategy, {}), strategy)
        _run(engine, FIRST + 14)
    run = engine.run_info
    assert run is not None and engine.head == FIRST + 14
    # Transactions of the first slot may have been announced before the runner subscribed.
    first, last = run.first_block + 1, FIRST + 14
    assert last - first >= 5
    backtest = run_backtest(
        BacktestRequest(
            dataset=dataset, strategy=strategy, config={}, first=first, last=last, db_url=db
        )
    )
    shadow_rows = _rows(db, run.id, first, last)
    backtest_rows = _rows(db, backtest.id, first, last)
    for a, b in zip(shadow_rows, backtest_rows, strict=False):
        assert a == b, f"shadow {a}\nbacktest {b}"
    assert shadow_rows == backtest_rows
    assert len(shadow_rows) >= 5, "too few opportunities to compare"
    with sa.create_engine(db).connect() as c:
        blocks = [
            r[0]
            for r in c.execute(
                sa.text(f"select block_number from blocks where run_id={run.id} order by 1")
            )
        ]
        actions = Counter(r[0] for r in c.execute(sa.text("select action from live_actions")))
    assert blocks == list(range(run.first_block, last + 1))
    assert actions and set(actions) <= {"approved", "rejected", "skipped"}


class _Crashes:
    """``backrun_arb`` until its ``on_block`` for block ``at``, which raises."""

    name = "crashes"

    def __init__(self, at: int) -> None:
        self.inner = create("backrun_arb", {})
        self.config = self.inner.config
        self.at = at

    def on_block(self, ctx: Any) -> list[Any]:
        if ctx.block.number >= self.at:
            raise RuntimeError("the strategy broke")
        return self.inner.on_block(ctx)

    def on_pending(self, ctx: Any, tx: Any) -> list[Any]:
        return self.inner.on_pending(ctx, tx)


def test_a_crashed_run_is_stored_as_failed(dataset: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    with DevnetNode(dataset, block_time=1.0, first_block=FIRST) as node:
        engine = _shadow_engine(node, db, _Crashes(FIRST + 3), "crashes")
        with pytest.raises(RuntimeError, match="the strategy broke"):
            _run(engine, FIRST + 10)
    assert engine.run_info is not None
    sql = sa.create_engine(db)
    try:
        with sql.connect() as c:
            status, notes = c.execute(
                sa.text("select status, notes from runs where id = :id"), {"id": engine.run_info.id}
            ).one()
    finally:
        sql.dispose()
    assert status == "failed"
    assert "crashed: RuntimeError: the strategy broke" in str(notes)


def test_live_mode_wins_and_reconciles_to_the_wei(dataset: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    account = Account.create()
    with DevnetNode(
        dataset, block_time=1.5, first_block=FIRST, searchers=[account.address]
    ) as node:
        before = holdings(node, account.address)
        engine = live_engine(node, tmp_path, db, account, node.ws_url)
        _run(engine, FIRST + 20)  # slack: a loaded machine lands fewer of its bundles
        got = reconcile(node, engine, db, account.address, before)
    assert got["landed"] >= 2 and got["realised"] > 0, got
    included = [b for blk in node.built for b in blk.bundles]
    assert included and all(b.payment > 0 for b in included)


class TcpProxy:
    """A TCP relay to 127.0.0.1:``target`` whose connections ``drop()`` cuts (a WebSocket drop
    that the node never sees)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.drops = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False

    def start(self, target: int) -> None:
        self.target = target
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def drop(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.drops += 1

    def stop(self) -> None:
        self._stopped = True
        self.server.close()
        self.drop()


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy()
    yield p
    p.stop()


def test_live_mode_recovers_from_faults(dataset: Path, tmp_path: Path, proxy: TcpProxy) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    account = Account.create()
    with DevnetNode(
        dataset, block_time=1.5, first_block=FIRST, searchers=[account.address]
    ) as node:
        proxy.start(node.port)
        before = holdings(node, account.address)
        engine = live_engine(node, tmp_path, db, account, f"ws://127.0.0.1:{proxy.port}")
        last = FIRST + 16

        def faults() -> None:
            node.wait_for_block(FIRST + 3, timeout=60)
            node.relay.inject(status=500, count=3)
            node.wait_for_block(FIRST + 5, timeout=60)
            node.relay.inject(delay=1.0, count=2)  # past the client's 0.5 s timeout
            node.wait_for_block(FIRST + 7, timeout=60)
            proxy.drop()  # the WebSocket drops; it reconnects through the proxy
            node.wait_for_block(FIRST + 9, timeout=60)
            node.restart_node(downtime=3.0)  # killed, blocks mined late after its return

        thread = threading.Thread(target=faults, daemon=True)
        thread.start()
        _run(engine, last)
        thread.join(timeout=60)
        got = reconcile(node, engine, db, account.address, before)
        assert proxy.drops >= 1
    assert got["landed"] >= 1
    late = [b for blk in node.built if blk.number > FIRST + 10 for b in blk.bundles]
    assert late, "no bundle landed after the node came back"
