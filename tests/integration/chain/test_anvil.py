"""The Anvil manager on a real Anvil: options, control methods, errors, and no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.transact import Sender
from workbench.errors import AnvilError, ConfigError, DeploymentError
from workbench.rpc import RpcClient, RpcError

ROOT = Path(__file__).resolve().parents[3]
SOMEONE = "0x00000000000000000000000000000000000000a1"


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def latest(node: Anvil) -> dict:
    return node.rpc.call("eth_getBlockByNumber", ["latest", False])


def test_options_reach_anvil(tmp_path: Path) -> None:
    cfg = AnvilConfig(
        chain_id=4242,
        timestamp=1_700_000_000,
        base_fee=7 * 10**9,
        gas_limit=31_000_000,
        accounts=3,
        balance=77,
        code_size_limit=100_000,
        prune_history=0,
        hardfork="cancun",
    )
    with Anvil(cfg, log_path=tmp_path / "anvil.log") as node:
        assert int(node.rpc.call("eth_chainId"), 16) == 4242
        genesis = node.rpc.call("eth_getBlockByNumber", ["0x0", False])
        assert int(genesis["timestamp"], 16) == 1_700_000_000
        assert int(genesis["gasLimit"], 16) == 31_000_000
        assert int(genesis["baseFeePerGas"], 16) == 7 * 10**9
        accounts = node.rpc.call("eth_accounts")
        assert len(accounts) == 3
        assert int(node.rpc.call("eth_getBalance", [accounts[0], "latest"]), 16) == 77 * 10**18
        assert node.startup_seconds is not None and node.startup_seconds > 0
    assert (tmp_path / "anvil.log").read_text()  # a log path given by the caller is kept


def test_code_size_limit_and_history_pruning_take_effect() -> None:
    big = bytes.fromhex("62" + (30_000).to_bytes(3, "big").hex() + "6000f3")  # returns 30 kB
    with Anvil() as node, pytest.raises(DeploymentError):  # EIP-170: 24,576 bytes at most
        Sender(node.rpc, node.rpc.call("eth_accounts")[0]).send(None, big, gas=10_000_000)
    with Anvil(AnvilConfig(disable_code_size_limit=True, prune_history=0)) as node:
        sender = Sender(node.rpc, node.rpc.call("eth_accounts")[0])
        created = sender.send(None, big, gas=10_000_000).contract_address
        assert len(node.rpc.call("eth_getCode", [created, "latest"])) == 2 + 2 * 30_000
        for _ in range(3):
            sender.send(SOMEONE, b"", value=1)
        with pytest.raises(RpcError, match=r"BlockOutOfRange"):  # history pruned
            node.rpc.call("eth_getBalance", [SOMEONE, "0x1"])


def test_mining_modes() -> None:
    with Anvil(AnvilConfig(mining="none")) as node:
        acct = node.rpc.call("eth_accounts")[0]
        node.rpc.call("eth_sendTransaction", [{"from": acct, "to": SOMEONE, "value": "0x1"}])
        assert node.block_number() == 0  # nothing mined until asked
        node.mine()
        assert node.block_number() == 1
    with Anvil(AnvilConfig(mining="interval", block_time=0.2)) as node:
        deadline = time.monotonic() + 5
        while node.block_number() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert node.block_number() >= 2
    with pytest.raises(ConfigError, match="block_time"):
        AnvilConfig(mining="interval")
    with pytest.raises(ConfigError, match="fork_url"):
        AnvilConfig(fork_block_number=5)


def test_control_methods(anvil: Anvil) -> None:
    snap = anvil.snapshot()
    anvil.mine(5, interval=12)
    assert anvil.block_number() == 5
    anvil.revert(snap)
    assert anvil.block_number() == 0
    with pytest.raises(ValueError, match="snapshot"):
        anvil.revert(snap)  # consumed

    anvil.mine(timestamp=2_000_000_000)
    assert int(latest(anvil)["timestamp"], 16) == 2_000_000_000
    anvil.set_next_base_fee(123_456)
    anvil.mine()
    assert int(latest(anvil)["baseFeePerGas"], 16) == 123_456

    anvil.set_balance(SOMEONE, 10**20)
    assert int(anvil.rpc.call("eth_getBalance", [SOMEONE, "latest"]), 16) == 10**20
    anvil.set_code(SOMEONE, bytes.fromhex("602a60005260206000f3"))  # returns 42
    assert int(anvil.rpc.call("eth_call", [{"to": SOMEONE}, "latest"]), 16) == 42
    anvil.set_storage(SOMEONE, 3, 2**255 + 1)
    assert int(anvil.rpc.call("eth_getStorageAt", [SOMEONE, "0x3", "latest"]), 16) == 2**255 + 1
    anvil.set_nonce(SOMEONE, 9)
    assert int(anvil.rpc.call("eth_getTransactionCount", [SOMEONE, "latest"]), 16) == 9

    stranger = "0x00000000000000000000000000000000000000b2"
    anvil.set_balance(stranger, 10**18)
    with pytest.raises(RpcError):
        anvil.rpc.call("eth_sendTransaction", [{"from": stranger, "to": SOMEONE, "value": "0x1"}])
    anvil.impersonate(stranger)
    Sender(anvil.rpc, stranger).send(SOMEONE, b"", value=1)  # waits: Anvil mines asynchronously
    anvil.stop_impersonating(stranger)

    anvil.set_automine(False)
    anvil.rpc.call(
        "eth_sendTransaction", [{"from": anvil.rpc.call("eth_accounts")[0], "to": SOMEONE}]
    )
    before = anvil.block_number()
    time.sleep(0.1)
    assert anvil.block_number() == before
    anvil.set_automine(True)

    blob = anvil.dump_state()
    with Anvil() as other:
        other.load_state(blob)
        assert int(other.rpc.call("eth_getStorageAt", [SOMEONE, "0x3", "latest"]), 16) == 2**255 + 1


def test_fork_and_reset_to_another_block() -> None:
    """A second Anvil stands in for an archive node: fork it, then reset to a later block."""
    with Anvil() as archive:
        sender = Sender(archive.rpc, archive.rpc.call("eth_accounts")[0])
        for _ in range(3):  # one wei to SOMEONE per block: its balance is the block number
            sender.send(SOMEONE, b"", value=1)
        assert archive.block_number() == 3
        with Anvil(AnvilConfig(fork_url=archive.url, fork_block_number=1)) as fork:
            assert fork.block_number() == 1
            assert int(fork.rpc.call("eth_getBalance", [SOMEONE, "latest"]), 16) == 1
            fork.reset(archive.url, 3)
            assert fork.block_number() == 3
            assert int(fork.rpc.call("eth_getBalance", [SOMEONE, "latest"]), 16) == 3
        # Controlling an Anvil that someone else started works the same way.
        with RpcClient(archive.url) as rpc:
            assert AnvilControl(rpc).block_number() == 3


def test_state_file_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with Anvil(AnvilConfig(dump_state=state)) as node:
        node.set_storage(SOMEONE, 1, 99)
        node.mine()
    assert state.is_file()  # dumped on a clean stop (SIGTERM)
    with Anvil(AnvilConfig(load_state=state)) as node:
        assert int(node.rpc.call("eth_getStorageAt", [SOMEONE, "0x1", "latest"]), 16) == 99


def test_a_failed_start_raises_with_the_log_tail() -> None:
    with pytest.raises(AnvilError) as info:
        Anvil(AnvilConfig(extra_args=("--no-such-flag",))).start()
    assert "exited with code" in str(info.value)
    assert "no-such-flag" in info.value.log_tail
    assert info.value.log_path and Path(info.value.log_path).is_file()
    Path(info.value.log_path).unlink()


def test_death_is_reported_with_the_log_tail(anvil: Anvil) -> None:
    assert anvil.proc is not None
    anvil.proc.kill()
    anvil.proc.wait()
    with pytest.raises(AnvilError, match="not running"):
        anvil.check_alive()


def test_stopped_on_exit_and_on_exception() -> None:
    with Anvil() as node:
        pid = node.pid
    assert pid and wait_gone(pid)
    with pytest.raises(RuntimeError, match="boom"), Anvil() as node:
        pid = node.pid
        raise RuntimeError("boom")
    assert pid and wait_gone(pid)


def test_async_context_manager() -> None:
    async def main() -> int | None:
        async with Anvil() as node:
            assert node.block_number() == 0
            return node.pid

    pid = asyncio.run(main())
    assert pid and wait_gone(pid)


CHILD = textwrap.dedent(
    """
    import sys, time
    from workbench.chain.anvil import Anvil
    with Anvil() as node:
        print(node.pid, flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_no_orphan_when_the_parent_is_interrupted_or_killed(sig: signal.Signals) -> None:
    """SIGINT unwinds the context manager; SIGTERM/SIGKILL skip it, and the death signal
    tied to the parent still stops Anvil."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert child.stdout is not None
        anvil_pid = int(child.stdout.readline())
        assert alive(anvil_pid)
        child.send_signal(sig)
        child.wait(timeout=10)
        assert wait_gone(anvil_pid), f"anvil {anvil_pid} survived {sig.name} of its parent"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_old_states_stay_off_disk_and_the_cache_is_removed() -> None:
    """Anvil may persist older states to disk (78 GB were once left behind by killed test
    Anvils): ours keep none there, and each instance's cache directory goes with it."""
    with Anvil() as node:
        cache = node._cache_dir
        assert cache is not None and cache.is_dir()
        sender = Sender(node.rpc, node.rpc.call("eth_accounts")[0])
        for _ in range(300):  # more blocks than Anvil keeps in memory
            sender.send(SOMEONE, b"", value=1)
        assert not any(p.is_file() for p in cache.rglob("*"))
    assert not cache.exists()
