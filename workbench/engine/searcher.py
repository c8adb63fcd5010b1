"""Our searcher on a replay chain: a fresh key, and an Executor owned by it, funded with WETH,
installed without mining a block (the replayed blocks must keep their numbers and base fees;
``workbench.chain.executor_install`` says how).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from workbench.chain.anvil_control import AnvilControl
from workbench.chain.executor_install import install_executor
from workbench.types import address

EXECUTOR_ADDRESS = address("0x00000000000000000000000000000000e8ec0700")  # where ours is installed
GAS_MONEY = 10**21  # ETH for the searcher's gas in simulations


def fork_replay_account() -> LocalAccount:
    """The searcher of fork replays: one fixed key (public, so never to hold anything real),
    so that a rerun reads exactly the upstream state the first read (its cassette replays)."""
    return Account.from_key(keccak(text="workbench fork-replay searcher"))


@dataclass(frozen=True)
class Searcher:
    account: LocalAccount
    executor: str


def install_searcher(
    node: AnvilControl, weth: str, capital: int, account: LocalAccount | None = None
) -> Searcher:
    """A searcher (``account``, or a new throwaway key: never printed, never stored) with
    ``capital`` WETH in its Executor and ETH for gas; no block is mined."""
    account = account or Account.create()
    install_executor(node, account.address, weth, capital, EXECUTOR_ADDRESS)
    node.set_balance(account.address, GAS_MONEY)
    return Searcher(account, EXECUTOR_ADDRESS)
