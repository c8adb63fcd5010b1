"""Anvil as a managed process: started on a free 127.0.0.1 port, always stopped.

``with Anvil(AnvilConfig(...)) as node:`` (or ``async with``) starts Anvil, waits until it
answers JSON-RPC, and stops it on exit, on exceptions and on SIGINT (KeyboardInterrupt).
Anvil is also tied to the life of the thread that started it (Linux ``PR_SET_PDEATHSIG``), so
it cannot outlive a parent that is killed outright, and an ``atexit`` hook stops any left.
Its output goes to a log file; if it dies, ``AnvilError`` carries the log's tail.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from workbench.chain.anvil_control import AnvilControl
from workbench.chain.tools import foundry_binary
from workbench.errors import AnvilError, ConfigError, RpcTransportError
from workbench.rpc import RetryPolicy, RpcClient
from workbench.rpc.redact import redact_url

Mining = Literal["auto", "interval", "none"]

_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")
_RUNNING: weakref.WeakSet[Anvil] = weakref.WeakSet()
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class AnvilConfig:
    """Anvil's options. ``None`` leaves Anvil's own default."""

    fork_url: str | None = None
    fork_block_number: int | None = None
    chain_id: int | None = None
    mining: Mining = "auto"
    block_time: float | None = None  # seconds between blocks when mining == "interval"
    base_fee: int | None = None  # wei, of the first block
    gas_limit: int | None = None
    disable_block_gas_limit: bool = False
    load_state: Path | None = None
    dump_state: Path | None = None  # written by Anvil when it stops
    timestamp: int | None = None  # of the genesis block
    accounts: int | None = None
    balance: int | None = None  # ether per dev account
    mnemonic: str | None = None
    code_size_limit: int | None = None
    disable_code_size_limit: bool = False
    prune_history: int | None = None  # keep this many states in memory (0 = Anvil's minimum)
    # Anvil writes the states of older blocks to disk, and a killed Anvil never deletes them
    # (tens of GB after a long test run): by default keep none there. Raise it for deep
    # historical queries; each instance gets its own cache directory, removed on stop.
    max_persisted_states: int | None = 0
    hardfork: str | None = None
    order: Literal["fees", "fifo"] | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)
    port: int | None = None  # on 127.0.0.1; None or 0: a free one chosen by Anvil
    fork_cache: bool | None = None
    """Foundry's disk cache of forked state (by chain id and block): None keeps it for remote
    nodes and skips it for local ones (a devnet reuses chain ids and numbers)."""
    home: Path | None = None
    """Anvil's home directory, where Foundry keeps that cache (default: the user's)."""
    rpc_timeout: float = 30.0
    """Seconds our client waits for an answer (a fork's first reads go upstream: longer)."""

    def __post_init__(self) -> None:
        if self.mining == "interval" and not self.block_time:
            raise ConfigError("mining='interval' needs block_time (seconds between blocks)")
        if self.mining != "interval" and self.block_time is not None:
            raise ConfigError("block_time is only used with mining='interval'")
        if self.fork_block_number is not None and not self.fork_url:
            raise ConfigError("fork_block_number needs fork_url (an archive node's RPC URL)")
        if self.fork_block_number is not None and self.fork_block_number < 0:
            raise ConfigError(f"fork_block_number must be >= 0, got {self.fork_block_number}")
        if self.port is not None and not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535 (0: any free port), got {self.port}")

    def args(self) -> list[str]:
        """Anvil's command-line arguments for this configuration (without port and host)."""
        a: list[str] = []
        opt = {
            "--fork-url": self.fork_url,
            "--fork-block-number": self.fork_block_number,
            "--chain-id": self.chain_id,
            "--block-base-fee-per-gas": self.base_fee,
            "--gas-limit": self.gas_limit,
            "--load-state": self.load_state,
            "--dump-state": self.dump_state,
            "--timestamp": self.timestamp,
            "--accounts": self.accounts,
            "--balance": self.balance,
            "--mnemonic": self.mnemonic,
            "--code-size-limit": self.code_size_limit,
            "--hardfork": self.hardfork,
            "--order": self.order,
            "--max-persisted-states": None
            if self.prune_history is not None
            else self.max_persisted_states,
        }
        for flag, value in opt.items():
            if value is not None:
                a += [flag, str(value)]
        if self.mining == "interval":
            a += ["--block-time", f"{self.block_time:g}"]
        elif self.mining == "none":
            a.append("--no-mining")
        local = bool(self.fork_url) and urlsplit(self.fork_url or "").hostname in _LOCAL_HOSTS
        cached = not local if self.fork_cache is None else self.fork_cache
        if self.fork_url and not cached:
            # Foundry caches forked state on disk by chain id and block number; a local chain
            # (a devnet, another Anvil) reuses both with different contents every run.
            a.append("--no-storage-caching")
        if self.disable_block_gas_limit:
            a.append("--disable-block-gas-limit")
        if self.disable_code_size_limit:
            a.append("--disable-code-size-limit")
        if self.prune_history is not None:
            a.append("--prune-history")
            if self.prune_history:
                a.append(str(self.prune_history))
        return a + list(self.extra_args)


def anvil_command(config: AnvilConfig, cache_path: Path | None = None) -> list[str]:
    """The full command line Anvil is started with: on 127.0.0.1, at ``config.port`` or a free
    port chosen by Anvil."""
    cache = ["--cache-path", str(cache_path)] if cache_path else []
    return [
        str(foundry_binary("anvil")),
        "--host",
        "127.0.0.1",
        "--port",
        str(config.port or 0),
        *cache,
        *config.args(),
    ]


def child_env(home: Path | None = None) -> dict[str, str]:
    """The environment Anvil runs with: the path, home and temp directory only, so that no
    secret in ours (a node URL, a keystore password) reaches it."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR", "LANG") if k in os.environ}
    if home is not None:
        env["HOME"] = str(home)
    return env


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM Anvil when the thread that started it dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Anvil(AnvilControl):
    """One Anvil process. ``url``/``ws_url``/``rpc`` are valid between start and stop."""

    def __init__(
        self,
        config: AnvilConfig | None = None,
        *,
        log_path: Path | str | None = None,
        ready_timeout: float | None = None,
    ) -> None:
        self.config = config or AnvilConfig()
        self._own_log = log_path is None
        self.log_path = Path(log_path) if log_path else None
        self.ready_timeout = ready_timeout or (60.0 if self.config.fork_url else 10.0)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._rpc: RpcClient | None = None
        self._cache_dir: Path | None = None

    # ---- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._require_port()}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._require_port()}"

    @property
    def rpc(self) -> RpcClient:
        if self._rpc is None:
            raise AnvilError("Anvil is not running; use it inside `with Anvil(...)`")
        return self._rpc

    def _require_port(self) -> int:
        if self.port is None:
            raise AnvilError("Anvil is not running; use it inside `with Anvil(...)`")
        return self.port

    def start(self) -> Anvil:
        self._spawn()
        deadline = time.monotonic() + self.ready_timeout
        while not self._poll_ready():
            if time.monotonic() > deadline:
                self._fail(f"Anvil did not become ready within {self.ready_timeout:g}s")
            time.sleep(0.01)
        return self

    async def start_async(self) -> Anvil:
        self._spawn()  # in this thread: the death signal is tied to the spawning thread
        deadline = time.monotonic() + self.ready_timeout
        while not self._poll_ready():
            if time.monotonic() > deadline:
                self._fail(f"Anvil did not become ready within {self.ready_timeout:g}s")
            await asyncio.sleep(0.01)
        return self

    def _spawn(self) -> None:
        if self.proc is not None:
            raise AnvilError("this Anvil is already started")
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="anvil-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._cache_dir = Path(tempfile.mkdtemp(prefix="anvil-states-"))
        cmd = anvil_command(self.config, self._cache_dir)
        self._t0 = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                env=child_env(self.config.home),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        _RUNNING.add(self)

    def _poll_ready(self) -> bool:
        assert self.proc is not None and self.log_path is not None
        if self.proc.poll() is not None:
            self._fail(f"Anvil exited with code {self.proc.returncode} while starting")
        if self.port is None:
            m = _LISTENING.search(self.log_path.read_bytes())
            if not m:
                return False
            self.port = int(m.group(1))
            # No retries: Anvil is local, and re-sending a timed-out evm_mine, evm_revert or
            # eth_sendTransaction would not be harmless. A failure surfaces at once.
            self._rpc = RpcClient(
                self.url,
                timeout=self.config.rpc_timeout,
                retry=RetryPolicy(max_attempts=1),
            )
        try:
            self.rpc.call("eth_chainId")
        except RpcTransportError:
            return False
        self.startup_seconds = time.monotonic() - self._t0
        return True

    def _fail(self, message: str) -> None:
        tail = self.log_tail()
        self._own_log = False  # keep the log for the user to read
        self.stop()
        raise AnvilError(message, tail, str(self.log_path))

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_bytes()[-16384:].decode(errors="replace")
        # a fork's URL may carry a key: shown redacted wherever the tail goes (errors, store)
        text = _URL.sub(lambda m: redact_url(m.group(0)), text)
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """Raises ``AnvilError`` with the log tail if the process has died."""
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise AnvilError(
                f"Anvil is not running (exit code {code})", self.log_tail(), str(self.log_path)
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stops Anvil (SIGTERM, then SIGKILL); idempotent. SIGTERM lets it dump state."""
        if self._rpc is not None:
            self._rpc.close()
            self._rpc = None
        proc, self.proc = self.proc, None
        self.port = None
        _RUNNING.discard(self)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._own_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None
        if self._cache_dir is not None:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Anvil:
        return await self.start_async()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid} url={self.url}" if self.port else "stopped"
        return f"<Anvil {state}>"


@atexit.register
def _stop_all() -> None:
    for node in list(_RUNNING):
        node.stop()
