"""A pool's state read from a node with batched ``eth_call``s, all at one block.

Each venue a node can be asked about declares a ``PoolReader``: the calls that recognise its
pools and give most of their state, and how to build the state from the answers (with more
batches when it needs them, e.g. V3's tick bitmap, each of at most ``batch_size`` calls, as
nodes cap batch length, geth at 1000). Registering the venue adds its reader to ``READERS``.
Detection sends every reader's calls in one batch and takes the most specific reader whose
required calls all answered. A block tag is first resolved to its number so that every
call, across batches, reads the same state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import function_signature_to_4byte_selector

from workbench.errors import MarketError, NotAPoolError
from workbench.market.pool import PoolState
from workbench.rpc import Call, RpcClient, RpcError
from workbench.types import address as checksum


@dataclass(frozen=True, slots=True)
class Probe:
    """What a reader builds a state from: the node, the pool, the block (number and tag), the
    first batch's answers (signature -> 32-byte words, for the calls that answered) and the
    caller's options (``fee``: a V2 pair's fee in pips unless it says)."""

    rpc: RpcClient
    pool: str
    block: int
    tag: str
    words: Mapping[str, list[int]]
    fee: int
    batch_size: int


@dataclass(frozen=True, slots=True)
class PoolReader:
    """How a venue's pools are recognised and read. ``calls`` maps each function signature
    of the first batch to the number of words its answer must have; a pool of this venue
    answers all of ``required``; ``hint`` names them briefly for the message when a contract
    answers no venue's calls ("V2's getReserves()")."""

    kind: str
    name: str
    calls: Mapping[str, int]
    required: tuple[str, ...]
    hint: str
    build: Callable[[Probe], PoolState]


READERS: dict[str, PoolReader] = {}
"""``kind`` (what ``fetch_pool_state(kind=...)`` takes: 'v2', 'v3') -> reader, in the order
the venues were registered."""


def fetch_pool_state(
    rpc: RpcClient,
    address: str,
    *,
    block: int | str = "latest",
    kind: str | None = None,
    fee: int = 3000,
    batch_size: int = 1000,
) -> PoolState:
    """The pool's state at ``block`` (a number or a tag such as 'latest'); ``kind`` None
    detects the venue (V3 when slot0 answers, V2 when getReserves does). ``fee`` (pips) is a
    V2 pair's fee unless it answers ``feePips()``."""
    if kind is not None and (not isinstance(kind, str) or kind not in READERS):
        kinds = ", ".join(repr(k) for k in READERS)
        raise MarketError(f"kind must be {kinds} or None (detect), got {kind!r}")
    pool = checksum(address)
    number = block_number(rpc, block)
    tag = hex(number)
    readers = [READERS[kind]] if kind else list(READERS.values())
    calls: dict[str, int] = {}
    for reader in readers:
        for signature, need in reader.calls.items():
            calls[signature] = max(calls.get(signature, 0), need)
    answers = rpc.batch([eth_call(pool, s, tag) for s in calls])
    words = {s: w for s, a in zip(calls, answers, strict=True) if (w := answer_words(a, calls[s]))}
    found = next((r for r in _most_specific_first(readers) if _answers(words, r)), None)
    if found is None:
        raise NotAPoolError(pool, number, _why_not(rpc, pool, tag, words, kind))
    return found.build(Probe(rpc, pool, number, tag, words, fee, batch_size))


def eth_call(pool: str, signature: str, tag: str, arg: int | None = None) -> Call:
    """An ``eth_call`` of ``signature`` on ``pool`` at block ``tag`` (one int argument, if any)."""
    data = _selector(signature) + ("" if arg is None else f"{arg % 2**256:064x}")
    return ("eth_call", [{"to": pool, "data": data}, tag])


def answer_words(answer: Any, need: int) -> list[int] | None:
    """The 32-byte words of an ``eth_call`` answer; None for a revert or a too-short answer."""
    if isinstance(answer, RpcError) or not isinstance(answer, str):
        return None
    raw = bytes.fromhex(answer.removeprefix("0x"))
    if len(raw) < 32 * need:
        return None
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw) - 31, 32)]


def batched(rpc: RpcClient, calls: Sequence[Call], size: int) -> list[Any]:
    """The answers to ``calls``, sent in batches of at most ``size``."""
    return [r for i in range(0, len(calls), size) for r in rpc.batch(calls[i : i + size])]


def block_number(rpc: RpcClient, block: int | str) -> int:
    """``block`` as a number (a tag such as 'latest' asked of the node)."""
    if isinstance(block, int):
        return block
    header = rpc.call("eth_getBlockByNumber", [block, False])
    if header is None:
        raise MarketError(f"the node has no block {block!r}")
    return int(header["number"], 16)


@functools.lru_cache(maxsize=256)
def _selector(signature: str) -> str:
    return "0x" + function_signature_to_4byte_selector(signature).hex()


def _most_specific_first(readers: Sequence[PoolReader]) -> list[PoolReader]:
    """Readers by how many calls they require, most first: a contract that answers V3's
    calls and V2's is taken for the venue it matches more closely."""
    return sorted(readers, key=lambda r: -len(r.required))


def _answers(words: Mapping[str, list[int]], reader: PoolReader) -> bool:
    return all(s in words for s in reader.required)


def _why_not(
    rpc: RpcClient, pool: str, tag: str, words: Mapping[str, list[int]], kind: str | None
) -> str:
    if rpc.call("eth_getCode", [pool, tag]) in ("0x", "", None):
        return "no contract there (an EOA, or not yet deployed at that block)"
    if kind:
        reader = READERS[kind]
        silent = [s for s in reader.required if s not in words]
        return f"not a {reader.name} pool: {', '.join(silent)} did not answer"
    hints = " nor ".join(r.hint for r in _most_specific_first(list(READERS.values())))
    return f"a contract that answers neither {hints}"
