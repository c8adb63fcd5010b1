"""The Anvil a replay starts on, built from the dataset's origin (``workbench.sources.origin``):
the engine knows nothing of how a dataset was made, only where its chain begins.

A genesis origin loads its state file. A fork origin forks an archive node, always through a
``ForkProxy`` on 127.0.0.1 (the node's URL never reaches Anvil's command line), after checking
that the node is of the dataset's chain and holds state at the fork block.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.errors import DatasetError, RpcError, RpcTransportError
from workbench.networks import find_network
from workbench.rpc.client import RpcClient
from workbench.rpc.fork_proxy import ForkProxy, ForkStats
from workbench.rpc.retry import RetryPolicy
from workbench.sources.dataset import Dataset
from workbench.sources.origin import ForkOrigin, GenesisOrigin

FORK_URL_FLAG = "--fork-url"
FORK_CACHE = ".fork-cache"
"""A fork-origin dataset's Foundry cache directory (inside the dataset, ignored by it)."""
_PROBE = "0x000000000000000000000000000000000000dEaD"  # any account: state at a block or not


@dataclass(frozen=True)
class ForkSource:
    """Where a fork-origin replay reads the chain: an archive node (``url``, never stored) or
    a cassette (``replay``); optionally recording every answer (``record``) and keeping to
    ``rate_cu`` compute units per second."""

    url: str | None = None
    record: Path | None = None
    replay: Path | None = None
    rate_cu: float | None = None
    stats: ForkStats = field(default_factory=ForkStats)  # what went upstream


def genesis_config(dataset: Dataset, origin: GenesisOrigin, state: Path) -> AnvilConfig:
    """Anvil's options to continue the chain from the genesis state file ``state``."""
    return AnvilConfig(
        chain_id=dataset.chain_id,
        timestamp=origin.timestamp,  # else Anvil's clock starts at the wall clock
        hardfork=origin.hardfork,
        gas_limit=origin.gas_limit,
        mining="none",
        order="fifo",
        load_state=state,
    )


@contextmanager
def replay_node(
    dataset: Dataset,
    *,
    fork: ForkSource | None = None,
    at: int | None = None,
    keep_states: int | None = None,
) -> Iterator[Anvil]:
    """An Anvil at the head the dataset's replay starts from (checked); stopped on exit. A
    fork-origin dataset forks at block ``at`` (default: its first block - 1). ``keep_states``:
    the state of that many past blocks stays readable (an archive node of the replay)."""
    origin = dataset.origin
    if isinstance(origin, ForkOrigin):
        with _forked(dataset, origin, fork, origin.block_number if at is None else at) as node:
            yield node
        return
    fd, name = tempfile.mkstemp(prefix="replay-genesis-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(origin.state_bytes(dataset.root))
        config = genesis_config(dataset, origin, Path(name))
        if keep_states is not None:
            config = dataclasses.replace(config, max_persisted_states=keep_states)
        with Anvil(config) as node:
            node.rpc.call("anvil_setCoinbase", [origin.coinbase])
            head = node.rpc.call("eth_getBlockByNumber", ["latest", False])
            if head["hash"] != origin.block_hash:
                raise DatasetError(
                    f"the genesis state of {dataset.root} loads to block "
                    f"{int(head['number'], 16)} {head['hash']}, not {origin.block_hash}: the "
                    "state file or Anvil differs"
                )
            yield node
    finally:
        Path(name).unlink(missing_ok=True)


@contextmanager
def _forked(
    dataset: Dataset, origin: ForkOrigin, fork: ForkSource | None, at: int
) -> Iterator[Anvil]:
    if fork is None or (fork.url is None and fork.replay is None):
        raise DatasetError(
            f"{dataset.root} holds blocks of chain {origin.chain_id}: its replay forks an "
            f"archive node at block {origin.block_number}; pass the node with "
            f"{FORK_URL_FLAG} URL (the URL is never stored), or a recorded cassette with --replay"
        )
    with ForkProxy(
        fork.url, record=fork.record, replay=fork.replay, rate_cu=fork.rate_cu, stats=fork.stats
    ) as proxy:
        check_archive(proxy, dataset.chain_id, at)
        network = find_network(dataset.chain_id)
        config = AnvilConfig(
            fork_url=proxy.url,
            fork_block_number=at,
            chain_id=dataset.chain_id,
            hardfork=network.hardfork if network else None,
            mining="none",
            order="fifo",
            # Foundry's cache of the forked state, per dataset: its blocks are fixed, so a
            # rerun reads from disk what it fetched before (also for a devnet's chain id).
            # Not with a cassette: recording it must fetch every answer the replay needs, and
            # replaying it must ask what the recording asked (a cache changes the questions).
            fork_cache=fork.record is None and fork.replay is None,
            home=dataset.root / FORK_CACHE,
            rpc_timeout=300.0,
        )
        with Anvil(config) as node:
            if fork.record is not None:
                proxy.record_accounts(node.rpc.call("eth_accounts"), at)
            try:
                yield node
            except Exception:
                _check_complete(proxy)  # the cause, when the fork failed for want of an answer
                raise
        _check_complete(proxy)


def _check_complete(proxy: ForkProxy) -> None:
    if proxy.missing:
        raise DatasetError(
            f"the cassette {proxy.replay} lacks {len(proxy.missing)} answer(s) this replay needs, "
            f"e.g. {proxy.missing[0]}; record it again with --record over this range"
        )


def check_archive(proxy: ForkProxy, chain_id: int, block: int) -> None:
    """The node behind ``proxy`` is of ``chain_id`` and has state at ``block``; else a
    ``DatasetError`` saying which and what to do."""
    rpc = RpcClient(proxy.url, retry=RetryPolicy(max_attempts=1), timeout=60.0)
    try:
        got = int(rpc.call("eth_chainId"), 16)
        if got != chain_id:
            raise DatasetError(
                f"the fork node ({proxy.where}) serves chain {got}, the dataset chain "
                f"{chain_id}: pass a node of chain {chain_id}"
            )
        try:
            rpc.call("eth_getBalance", [_PROBE, hex(block)])
        except RpcError as err:
            raise DatasetError(
                f"the fork node ({proxy.where}) has no state at block {block} ({err.message}): "
                "it is not an archive node, or it pruned that block; use an archive node"
            ) from None
    except RpcTransportError:
        raise DatasetError(f"the fork node ({proxy.where}) does not answer") from None
    finally:
        rpc.close()
