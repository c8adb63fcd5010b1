"""Reorgs: the blocks the runner processed, linked by hash, and the walk back to where the
node's chain and the processed one part.

``ChainJournal`` holds the last ``confirmations`` blocks processed, each with its hash and the
slot that was settled against it (its attempts: what landed, what it realised). A block whose
parent hash is not the hash processed at its parent's number, or a head announced with another
hash at a processed number, means the node reorganised: ``fork_point`` asks the node for the
hashes at the journaled numbers and finds the highest one still on its chain. The runner then
undoes the settlements of the blocks after it and settles those slots again against the blocks
that replaced them. A block that leaves the journal has ``confirmations`` blocks on top of it:
its results are final. A reorg deeper than the journal is ``ReorgTooDeep``: final results
would change, so the run stops and says so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from workbench.engine.executor import Attempt
from workbench.engine.loop import BlockLoop, OpenSlot
from workbench.errors import WorkbenchError
from workbench.rpc import RpcClient, RpcError
from workbench.sources.block_view import BlockData

DEFAULT_CONFIRMATIONS = 12
"""Blocks on top of a block before its results are final (Ethereum reorgs are 1-2 deep)."""


class ReorgTooDeep(WorkbenchError, RuntimeError):
    """The node reorganised below the journal: results already final would change."""


@dataclass(frozen=True, slots=True)
class Processed:
    number: int
    hash: str
    closed: OpenSlot | None  # the slot settled against this block, if one was open


class ChainJournal:
    """The processed blocks not yet final (see the module docstring)."""

    def __init__(self, confirmations: int = DEFAULT_CONFIRMATIONS) -> None:
        if confirmations < 1:
            raise ValueError(f"confirmations must be at least 1, got {confirmations}")
        self.confirmations = confirmations
        self._blocks: deque[Processed] = deque()

    def add(self, block: BlockData, closed: OpenSlot | None) -> Processed | None:
        """Journals ``block`` (the next after the last); returns the block that became final."""
        if block.hash is None:
            raise ValueError(f"block {block.number} came without its hash")
        if self._blocks and block.number != self._blocks[-1].number + 1:
            raise ValueError(f"block {block.number} does not follow {self._blocks[-1].number}")
        self._blocks.append(Processed(block.number, block.hash.lower(), closed))
        if len(self._blocks) > self.confirmations + 1:
            self._blocks.popleft()  # final already: kept only as the deepest fork point
        # the oldest one now has ``confirmations`` blocks on top of it
        return self._blocks[0] if len(self._blocks) == self.confirmations + 1 else None

    def hash_of(self, number: int) -> str | None:
        if not self._blocks or not self._blocks[0].number <= number <= self._blocks[-1].number:
            return None
        return self._blocks[number - self._blocks[0].number].hash

    def links(self, block: BlockData) -> bool:
        """Whether ``block`` builds on the block processed at its parent's number (True when
        that one is not journaled or the block carries no parent hash)."""
        parent = self.hash_of(block.number - 1)
        return parent is None or block.parent_hash is None or block.parent_hash.lower() == parent

    def differs(self, number: int, block_hash: str | None) -> bool:
        """Whether the node announced ``block_hash`` at a number processed with another hash."""
        known = self.hash_of(number)
        return known is not None and block_hash is not None and block_hash.lower() != known

    def orphan_after(self, fork: int) -> list[Processed]:
        """Takes the blocks after ``fork`` out of the journal (in block order)."""
        out: list[Processed] = []
        while self._blocks and self._blocks[-1].number > fork:
            out.append(self._blocks.pop())
        return out[::-1]

    @property
    def numbers(self) -> list[int]:
        return [p.number for p in self._blocks]


def fork_point(rpc: RpcClient, journal: ChainJournal) -> int:
    """The highest journaled block that is still on the node's chain (one batch of header
    reads); ``ReorgTooDeep`` when none is."""
    numbers = journal.numbers
    answers = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
    for number, answer in sorted(zip(numbers, answers, strict=True), reverse=True):
        if isinstance(answer, RpcError):
            raise answer
        if isinstance(answer, dict) and str(answer.get("hash", "")).lower() == journal.hash_of(
            number
        ):
            return number
    raise ReorgTooDeep(
        f"the node reorganised below block {numbers[0] if numbers else '?'}: deeper than the "
        f"{journal.confirmations} confirmations after which results are final. The run stops; "
        "start it again (it resumes from the node's chain), with a larger --confirmations if "
        "this chain reorganises that deep"
    )


class Unsettles(Protocol):
    def unsettle(self, attempts: Sequence[Attempt], block: int) -> None: ...


def unsettle_after(
    fork: int,
    journal: ChainJournal,
    loop: BlockLoop,
    executor: Unsettles,
    replaying: MutableMapping[int, OpenSlot],
) -> list[Processed]:
    """Takes the blocks after ``fork`` out of ``journal`` and undoes their settlements (last
    first); their slots and the open one (its bundles are out already) go to ``replaying``,
    by target block, to be closed again against the blocks the node's chain holds now.
    Returns the orphaned blocks."""
    orphaned = journal.orphan_after(fork)
    current = loop.suspend()
    for p in reversed(orphaned):
        if p.closed is not None:
            executor.unsettle(p.closed.attempts, p.number)
            replaying[p.number] = p.closed
    if current is not None:
        replaying[current.where.env.number] = current
    return orphaned
