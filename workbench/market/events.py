"""Pool logs decoded into typed, frozen events (ints and checksummed addresses).

Each venue declares the layout of its events (topic0 -> ``EventLayout``); registering the
venue (``market.venue.register``) adds them to ``DECODERS``, the table ``decode_log`` looks
topics up in. A log is accepted as ``eth_getLogs`` and receipts return it (camelCase keys, hex
quantities) or as an ethereum-etl row (snake_case keys, int quantities; ``topics`` a list or a
comma-joined string). Logs of other events decode to ``None``; a log that carries a registered
event's signature with another layout (a look-alike contract) raises ``LogDecodeError``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from workbench.errors import MarketError
from workbench.types import Address, address

Position = tuple[int, int]
"""Where a log sits in the chain: (block number, log index in the block)."""


class LogDecodeError(MarketError):
    """A log has a known pool event's signature but not its layout (topics and data words)."""

    def __init__(self, message: str, position: Position | None = None) -> None:
        self.position = position
        super().__init__(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolEvent:
    """The pool that emitted a log and the log's place in its block."""

    address: Address
    block_number: int
    transaction_index: int
    log_index: int

    @property
    def position(self) -> Position:
        return (self.block_number, self.log_index)


EventBuilder = Callable[[dict[str, Any], list[int], list[int]], PoolEvent]
"""Builds an event from the ``PoolEvent`` fields, the topics and the 32-byte data words."""


@dataclass(frozen=True, slots=True)
class EventLayout:
    """One event's log layout: its name (for messages), how many topics and data words it
    has, the event class it decodes to, and the builder that makes one."""

    name: str
    topics: int
    words: int
    event: type[PoolEvent]
    build: EventBuilder


DECODERS: dict[str, EventLayout] = {}
"""topic0 (lowercase hex) -> layout, for every registered venue's events."""


def topic(signature: str) -> str:
    """An event's topic0: the keccak of its signature, as lowercase 0x-hex."""
    return "0x" + keccak(text=signature).hex()


checksum = functools.lru_cache(maxsize=1 << 16)(address)
"""``types.address``, cached: logs name the same few pools and accounts over and over."""


def signed_int256(word: int) -> int:
    """A 32-byte ABI word read as int256 (two's complement)."""
    return word - (1 << 256) if word >> 255 else word


def word_address(word: int) -> Address:
    """The checksummed address in the low 20 bytes of a topic or data word."""
    return checksum(f"0x{word & ((1 << 160) - 1):040x}")


def _quantity(log: Mapping[str, Any], camel: str, snake: str) -> int:
    value = log.get(camel, log.get(snake))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value:
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
    raise LogDecodeError(f"log has no {camel} / {snake} (got {value!r}); a mined log is needed")


def _topics(log: Mapping[str, Any]) -> Sequence[str]:
    topics = log.get("topics") or ()
    return topics.split(",") if isinstance(topics, str) else topics


def _data(log: Mapping[str, Any]) -> bytes:
    data = log.get("data") or b""
    return data if isinstance(data, bytes) else bytes.fromhex(data.removeprefix("0x"))


def decode_log(log: Mapping[str, Any]) -> PoolEvent | None:
    """The pool event a raw log carries, or ``None`` when no registered venue emits it."""
    topics = _topics(log)
    if not topics:
        return None
    layout = DECODERS.get(topics[0].lower())
    if layout is None:
        return None
    block = _quantity(log, "blockNumber", "block_number")
    index = _quantity(log, "logIndex", "log_index")
    data = _data(log)
    if len(topics) != layout.topics or len(data) != 32 * layout.words:
        raise LogDecodeError(
            f"log {index} of block {block} from {log.get('address')} has the {layout.name} "
            f"signature but {len(topics)} topics and {len(data)} data bytes (expected "
            f"{layout.topics} and {32 * layout.words}): a look-alike event, not a pool's",
            (block, index),
        )
    base = {
        "address": checksum(str(log["address"])),
        "block_number": block,
        "transaction_index": _quantity(log, "transactionIndex", "transaction_index"),
        "log_index": index,
    }
    words = [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]
    return layout.build(base, [int(t, 16) for t in topics], words)
