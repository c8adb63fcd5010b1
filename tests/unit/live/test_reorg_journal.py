"""The live runner's journal of processed blocks: links by parent hash, finality after the
confirmations, the fork point from the node's hashes, a reorg too deep to undo."""

from __future__ import annotations

from typing import Any

import pytest

from live.reorg import ChainJournal, ReorgTooDeep, fork_point
from workbench.rpc import RpcError
from workbench.sources.block_view import BlockData


def h(n: int, fork: str = "a") -> str:
    return "0x" + fork * 2 + f"{n:062x}"


def block(n: int, fork: str = "a", parent_fork: str | None = None) -> BlockData:
    return BlockData(
        number=n,
        timestamp=n * 12,
        base_fee=1,
        miner="0x" + "00" * 20,
        gas_limit=30_000_000,
        gas_used=0,
        transactions=[],
        receipts={},
        logs=[],
        hash=h(n, fork),
        parent_hash=h(n - 1, parent_fork or fork),
    )


class Node:
    """Answers header batches from a chain given as number -> hash."""

    def __init__(self, chain: dict[int, str], fail: bool = False) -> None:
        self.chain, self.fail = chain, fail

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if self.fail:
            return [RpcError(-32000, "header not found") for _ in calls]
        out = []
        for _, (number, _full) in calls:
            n = int(number, 16)
            out.append({"number": number, "hash": self.chain[n]} if n in self.chain else None)
        return out


def test_blocks_link_by_parent_hash_and_become_final_after_the_confirmations() -> None:
    journal = ChainJournal(confirmations=3)
    finals = [journal.add(block(n), None) for n in range(10, 16)]
    assert [f.number if f else None for f in finals] == [None, None, None, 10, 11, 12]
    assert journal.numbers == [12, 13, 14, 15]  # the final 12 is kept as the deepest fork point
    assert journal.links(block(16)) and not journal.links(block(16, "b", parent_fork="b"))
    assert journal.differs(15, h(15, "b")) and not journal.differs(15, h(15))
    assert not journal.differs(99, h(99, "b"))  # not processed: nothing to compare
    with pytest.raises(ValueError, match="does not follow"):
        journal.add(block(18), None)


def test_the_fork_point_is_the_highest_block_still_on_the_nodes_chain() -> None:
    journal = ChainJournal(confirmations=5)
    for n in range(10, 15):
        journal.add(block(n), None)
    node = Node({10: h(10), 11: h(11), 12: h(12), 13: h(13, "b"), 14: h(14, "b")})
    assert fork_point(node, journal) == 12  # type: ignore[arg-type]
    assert [p.number for p in journal.orphan_after(12)] == [13, 14]
    assert journal.numbers == [10, 11, 12] and journal.links(block(13, "b", parent_fork="a"))
    shorter = Node({10: h(10), 11: h(11, "b")})  # the node has no block 12 yet
    assert fork_point(shorter, journal) == 10  # type: ignore[arg-type]


def test_a_reorg_below_the_journal_stops_the_run_and_says_why() -> None:
    journal = ChainJournal(confirmations=2)
    for n in range(10, 14):
        journal.add(block(n), None)
    node = Node({n: h(n, "b") for n in range(5, 14)})
    with pytest.raises(ReorgTooDeep, match="deeper than the 2 confirmations"):
        fork_point(node, journal)  # type: ignore[arg-type]
    with pytest.raises(RpcError, match="header not found"):
        fork_point(Node({}, fail=True), journal)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        ChainJournal(confirmations=0)
