"""What turns an intent into a bundle's fate: one ``Executor`` protocol for backtests, shadow
and live runs (DESIGN.md "The key interfaces"). ``execute`` always returns an ``Attempt``, never
raises for a bundle that fails; ``settle`` tells each attempt what happened in its target
block; ``reverts_now`` is the realised check one block late.

``SimulatedExecutor`` (backtests) simulates each intent on the replay's Anvil at its modelled
position; the live runner's ``ShadowExecutor`` and ``RelayExecutor`` live in ``live/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from workbench.chain.recorded_tx import Sendable
from workbench.execution.simulate import AnvilSimulator, SimResult
from workbench.sources.block_view import BlockData
from workbench.store import LiveActionRecord
from workbench.strategy.context import BlockEnv
from workbench.strategy.intents import ArbIntent


@dataclass(frozen=True, slots=True)
class SlotEnv:
    """The block being built as an executor needs it: its environment and coinbase."""

    env: BlockEnv
    coinbase: str


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an intent goes in its block: ``position`` (``TOP_OF_BLOCK`` or the index of the
    transaction it backruns), the transactions ahead of it in its bundle or
    simulation, the block's gas left for it, and when the event behind it arrived."""

    position: int
    before: tuple[Sendable, ...] = ()
    gas_left: int | None = None
    arrived_ns: int = 0  # perf_counter_ns


@dataclass
class Attempt:
    """One intent and what its executor did with it: the EVM simulation, and in a shadow or
    live run the action taken (``action``) and what the executor keeps until settlement."""

    intent: ArbIntent
    placement: Placement
    sim: SimResult
    action: LiveActionRecord | None = None
    approved: bool = False
    ticket: Any = field(default=None, repr=False)  # e.g. the bundle sent, until settlement


class Executor(Protocol):
    async def execute(self, intent: ArbIntent, slot: SlotEnv, placement: Placement) -> Attempt:
        """Simulates the intent where ``placement`` puts it and acts on it (records, sends);
        a failed bundle is an attempt whose simulation says so, never an exception."""
        ...

    def reverts_now(self, intent: ArbIntent) -> bool:
        """Whether the intent's transaction reverts on the state after its target block."""
        ...

    def settle(self, attempts: Sequence[Attempt], block: BlockData) -> None:
        """Brings each attempt of ``block`` up to date with what the block holds."""
        ...


class SimulatedExecutor:
    """Backtests: each intent simulated on the replay's Anvil (at the parent block's state)
    between snapshot and revert, after the transactions ahead of it; nothing is sent."""

    def __init__(self, simulator: AnvilSimulator) -> None:
        self.simulator = simulator

    async def execute(self, intent: ArbIntent, slot: SlotEnv, placement: Placement) -> Attempt:
        sim = self.simulator.simulate(
            intent, slot.env, slot.coinbase, placement.before, placement.gas_left
        )
        return Attempt(intent, placement, sim)

    def reverts_now(self, intent: ArbIntent) -> bool:
        return self.simulator.reverts_now(intent)

    def settle(self, attempts: Sequence[Attempt], block: BlockData) -> None:
        """Nothing was sent: the judge alone decides what a backtest's attempt earned."""
