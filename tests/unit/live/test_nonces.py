"""live.nonces: reservations, replacements, confirmation and chain sync, persisted across
restarts; a stateful property test that no nonce is ever handed out for two live transactions."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from live.nonces import NonceManager, chain_nonce
from workbench.errors import ConfigError

CHAIN = 31337
ACCOUNT = "0x" + "ab" * 20


@pytest.fixture
def manager(tmp_path):
    with NonceManager(tmp_path, CHAIN, ACCOUNT) as m:
        yield m


def test_reserve_hands_out_increasing_nonces(manager):
    assert [manager.reserve(10), manager.reserve(10), manager.reserve(11)] == [0, 1, 2]
    assert manager.reserved == {0: 10, 1: 10, 2: 11}
    assert manager.peek() == 3


def test_release_makes_the_lowest_nonce_reusable_for_a_replacement(manager):
    a, b = manager.reserve(10), manager.reserve(10)
    assert manager.release(a) and not manager.release(a)  # idempotent, says whether it held
    assert manager.reserve(11) == a  # the bundle for block 11 replaces the one for block 10
    assert manager.reserved == {a: 11, b: 10}


def test_retarget_keeps_the_nonce_for_the_next_block(manager):
    n = manager.reserve(10)
    manager.retarget(n, 11)
    assert manager.reserved == {n: 11} and manager.reserve(11) == n + 1
    with pytest.raises(ConfigError, match="not reserved"):
        manager.retarget(99, 12)


def test_confirm_uses_the_nonce_and_all_below(manager):
    for _ in range(3):
        manager.reserve(10)
    manager.confirm(1)
    assert manager.floor == 2 and manager.reserved == {2: 10}
    assert not manager.release(0)  # already used on chain
    assert manager.reserve(11) == 3


def test_sync_never_goes_below_the_chain_nor_lowers_the_floor(manager):
    assert manager.reserve(10) == 0
    manager.sync(5)  # other transactions of this account landed (or are pending)
    assert manager.floor == 5 and manager.reserved == {} and manager.reserve(11) == 5
    manager.sync(2)  # a lagging node
    assert manager.floor == 5
    with pytest.raises(ConfigError, match="negative"):
        manager.sync(-1)


def test_sync_through_block_releases_what_did_not_land(manager):
    n10, n11, n12 = manager.reserve(10), manager.reserve(11), manager.reserve(12)
    manager.sync(1, through_block=11)  # block 11 seen: nonce 0 landed, nonce 1 (block 11) not
    assert (n10, n11, n12) == (0, 1, 2)
    assert manager.floor == 1 and manager.reserved == {2: 12}
    assert manager.reserve(12) == 1


def test_rewind_lowers_the_floor_after_a_reorg(manager, tmp_path):
    manager.confirm(manager.reserve(10))  # landed in block 10 ...
    later = manager.reserve(12)
    assert manager.floor == 1 and later == 1
    manager.rewind(0)  # ... which a reorg orphaned: nonce 0 is free again
    assert manager.floor == 0 and manager.reserved == {1: 12} and manager.reserve(13) == 0
    manager.close()
    with NonceManager(tmp_path, CHAIN, ACCOUNT) as again:  # on disk as well
        assert again.floor == 0 and again.reserved == {0: 13, 1: 12}
    with pytest.raises(ConfigError, match="negative"):
        manager.rewind(-1)


def test_state_survives_a_restart(tmp_path):
    with NonceManager(tmp_path, CHAIN, ACCOUNT) as m:
        m.reserve(10)
        m.reserve(10)
        m.confirm(0)
        m.reserve(11)
        path = m.path
    state = orjson.loads(path.read_bytes())
    assert state["floor"] == 1 and state["reserved"] == {"1": 10, "2": 11}
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, path.with_suffix(".lock").name]
    with NonceManager(tmp_path, CHAIN, ACCOUNT.upper().replace("0X", "0x")) as again:
        assert again.floor == 1 and again.reserved == {1: 10, 2: 11}
        assert again.reserve(12) == 3


def test_accounts_and_chains_are_separate(tmp_path):
    with (
        NonceManager(tmp_path, CHAIN, ACCOUNT) as a,
        NonceManager(tmp_path, 1, ACCOUNT) as b,
        NonceManager(tmp_path, CHAIN, "0x" + "cd" * 20) as c,
    ):
        assert a.reserve(1) == b.reserve(1) == c.reserve(1) == 0


def test_a_second_manager_on_the_same_account_is_refused(manager, tmp_path):
    with pytest.raises(ConfigError, match="another nonce manager"):
        NonceManager(tmp_path, CHAIN, ACCOUNT)
    manager.close()
    with pytest.raises(ConfigError, match="closed"):
        manager.reserve(1)
    NonceManager(tmp_path, CHAIN, ACCOUNT).close()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{", "unreadable"),
        (b"[]", "not a version-1"),
        (orjson.dumps({"version": 1, "chain_id": 1, "address": ACCOUNT}), "belongs to chain 1"),
        (
            orjson.dumps({"version": 1, "chain_id": CHAIN, "address": ACCOUNT, "floor": "x"}),
            "malformed",
        ),
        (
            orjson.dumps(
                {
                    "version": 1,
                    "chain_id": CHAIN,
                    "address": ACCOUNT,
                    "floor": 3,
                    "reserved": {"1": 5},
                }
            ),
            "below its floor",
        ),
    ],
)
def test_a_bad_state_file_is_a_config_error(tmp_path, content, why):
    with NonceManager(tmp_path, CHAIN, ACCOUNT) as m:
        path = m.path
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=why):
        NonceManager(tmp_path, CHAIN, ACCOUNT)
    path.unlink()
    NonceManager(tmp_path, CHAIN, ACCOUNT).close()  # the lock was let go


def test_a_failed_write_changes_nothing(manager, monkeypatch):
    manager.reserve(1)

    def fail(*_a: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("live.nonces.write_atomically", fail)
    with pytest.raises(OSError, match="disk full"):
        manager.reserve(2)
    assert manager.reserved == {0: 1} and manager.peek() == 1


def test_concurrent_reservations_are_distinct(manager):
    got: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [manager.reserve(7) for _ in range(50)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(400))


def test_chain_nonce_asks_the_node_for_pending_by_default():
    calls = []

    class Rpc:
        def call(self, method, params):
            calls.append((method, params))
            return "0x2a"

    assert chain_nonce(Rpc(), ACCOUNT) == 42  # type: ignore[arg-type]
    assert chain_nonce(Rpc(), ACCOUNT, "latest") == 42  # type: ignore[arg-type]
    assert [p[1] for _, p in calls] == ["pending", "latest"]
    assert calls[0][0] == "eth_getTransactionCount"


class NonceProtocol(RuleBasedStateMachine):
    """A chain, the runner's transactions in flight, and a manager that restarts at random.

    ``live``: our transactions not yet resolved, by nonce -> target block (a landed one leaves
    ``live`` for ``landed``, awaiting its confirm). Other senders on the same account take the
    chain's next nonce too. The property: ``reserve`` never returns a nonce that a live or
    landed transaction of ours holds, nor one below what the manager was told is used.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="nonces-"))
        self.mgr = NonceManager(self.dir, CHAIN, ACCOUNT)
        self.chain = 0  # transactions of this account on chain
        self.head = 100
        self.live: dict[int, int] = {}
        self.landed: set[int] = set()  # ours, landed, not yet confirmed
        self.ours: set[int] = set()  # every nonce one of our transactions landed with
        self.told = 0  # the highest floor the manager was given

    @initialize(start=st.integers(0, 5))
    def start(self, start: int) -> None:
        self.chain = start
        self.mgr.sync(start)
        self.told = start

    def teardown(self) -> None:
        self.mgr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(ahead=st.integers(1, 3))
    def reserve(self, ahead: int) -> None:
        n = self.mgr.reserve(self.head + ahead)
        assert n not in self.live, f"nonce {n} handed out twice: {self.live}"
        assert n not in self.ours, f"nonce {n} already landed with one of ours"
        assert n >= self.told
        self.live[n] = self.head + ahead

    @precondition(lambda self: self.chain in self.live)
    @rule()
    def ours_lands(self) -> None:
        self.live.pop(self.chain)
        self.landed.add(self.chain)
        self.ours.add(self.chain)
        self.chain += 1

    @precondition(lambda self: self.chain not in self.live)
    @rule()
    def another_sender_lands(self) -> None:
        self.chain += 1

    @precondition(lambda self: bool(self.landed))
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(sorted(self.landed)))
        self.landed.discard(n)
        self.mgr.confirm(n)
        self.told = max(self.told, n + 1)

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(sorted(self.live)))
        del self.live[n]  # its bundle did not land
        self.mgr.release(n)

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def replace_for_next_block(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(sorted(self.live)))
        if n < self.mgr.floor:  # the manager forgot it at a sync: it can never land
            del self.live[n]
            return
        self.live[n] += 1
        self.mgr.retarget(n, self.live[n])

    @rule(lag=st.integers(0, 3))
    def sync(self, lag: int) -> None:
        count = max(0, self.chain - lag)  # "latest" on a lagging node, or "pending"
        self.mgr.sync(count)
        self.told = max(self.told, count)

    @rule()
    def new_block(self) -> None:
        # The head moves on; bundles that targeted it and did not land are dead: the runner
        # syncs with a count read now and drops them.
        self.head += 1
        for n, block in list(self.live.items()):
            if block <= self.head:
                del self.live[n]
        self.mgr.sync(self.chain, through_block=self.head)
        self.told = max(self.told, self.chain)
        self.landed.clear()  # the sync covered them

    @rule()
    def restart(self) -> None:
        self.mgr.close()
        self.mgr = NonceManager(self.dir, CHAIN, ACCOUNT)

    @invariant()
    def in_flight_nonces_stay_reserved(self) -> None:
        held = self.mgr.reserved
        for n, block in self.live.items():
            if n >= self.mgr.floor:
                assert held.get(n) == block
        assert self.mgr.floor >= self.told


NonceProtocol.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_nonce_protocol = NonceProtocol.TestCase
