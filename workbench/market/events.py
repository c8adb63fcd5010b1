"""Uniswap V2/V3 pool logs decoded into typed, frozen events (ints and checksummed addresses).

A log is accepted as ``eth_getLogs`` and receipts return it (camelCase keys, hex quantities)
or as an ethereum-etl row (snake_case keys, int quantities; ``topics`` a list or a
comma-joined string). Logs of other events decode to ``None``; a log that carries one of
these event signatures with another layout (a look-alike contract) raises ``LogDecodeError``.
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


@dataclass(frozen=True, slots=True, kw_only=True)
class V2Sync(PoolEvent):
    """The pair's reserves after a swap, mint, burn or sync: its whole state."""

    reserve0: int
    reserve1: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V2Swap(PoolEvent):
    """Amounts the pair received (net of any transfer fee) and sent; its ``Sync`` precedes it."""

    sender: Address
    to: Address
    amount0_in: int
    amount1_in: int
    amount0_out: int
    amount1_out: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Initialize(PoolEvent):
    sqrt_price_x96: int
    tick: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Swap(PoolEvent):
    """Signed amounts (positive: paid into the pool) and the pool's price, liquidity and tick after."""

    sender: Address
    recipient: Address
    amount0: int
    amount1: int
    sqrt_price_x96: int
    liquidity: int
    tick: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Mint(PoolEvent):
    sender: Address
    owner: Address
    tick_lower: int
    tick_upper: int
    amount: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Burn(PoolEvent):
    owner: Address
    tick_lower: int
    tick_upper: int
    amount: int
    amount0: int
    amount1: int


Event = V2Sync | V2Swap | V3Initialize | V3Swap | V3Mint | V3Burn


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


SYNC_V2 = _topic("Sync(uint112,uint112)")
SWAP_V2 = _topic("Swap(address,uint256,uint256,uint256,uint256,address)")
INITIALIZE_V3 = _topic("Initialize(uint160,int24)")
SWAP_V3 = _topic("Swap(address,address,int256,int256,uint160,uint128,int24)")
MINT_V3 = _topic("Mint(address,address,int24,int24,uint128,uint256,uint256)")
BURN_V3 = _topic("Burn(address,int24,int24,uint128,uint256,uint256)")


_checksum = functools.lru_cache(maxsize=1 << 16)(address)


def signed_int256(word: int) -> int:
    """A 32-byte ABI word read as int256 (two's complement)."""
    return word - (1 << 256) if word >> 255 else word


def _addr(word: int) -> Address:
    return _checksum(f"0x{word & ((1 << 160) - 1):040x}")


def _sync(base: dict[str, Any], t: list[int], w: list[int]) -> Event:
    return V2Sync(**base, reserve0=w[0], reserve1=w[1])


def _swap_v2(base: dict[str, Any], t: list[int], w: list[int]) -> Event:
    return V2Swap(
        **base,
        sender=_addr(t[1]),
        to=_addr(t[2]),
        amount0_in=w[0],
        amount1_in=w[1],
        amount0_out=w[2],
        amount1_out=w[3],
    )


def _initialize(base: dict[str, Any], t: list[int], w: list[int]) -> Event:
    return V3Initialize(**base, sqrt_price_x96=w[0], tick=signed_int256(w[1]))


def _swap_v3(base: dict[str, Any], t: list[int], w: list[int]) -> Event:
    return V3Swap(
        **base,
        sender=_addr(t[1]),
        recipient=_addr(t[2]),
        amount0=signed_int256(w[0]),
        amount1=signed_int256(w[1]),
        sqrt_price_x96=w[2],
        liquidity=w[3],
        tick=signed_int256(w[4]),
    )


def _mint(base: dict[str, Any], t: list[int], w: list[int]) -> Event:
    return V3Mint(
        **base,
        sender=_addr(w[0]),
        owner=_addr(t[1]),
        tick_lower=signed_int256(t[2]),
        tick_upper=signed_int256(t[3]),
        amount=w[1],
        amount0=w[2],
        amount1=w[3],
    )


def _burn(base: dict[str, Any], t: list[int], w: list[int]) -> Event:
    return V3Burn(
        **base,
        owner=_addr(t[1]),
        tick_lower=signed_int256(t[2]),
        tick_upper=signed_int256(t[3]),
        amount=w[0],
        amount0=w[1],
        amount1=w[2],
    )


_Builder = Callable[[dict[str, Any], list[int], list[int]], Event]
_LAYOUTS: dict[str, tuple[str, int, int, _Builder]] = {
    SYNC_V2: ("V2 Sync", 1, 2, _sync),
    SWAP_V2: ("V2 Swap", 3, 4, _swap_v2),
    INITIALIZE_V3: ("V3 Initialize", 1, 2, _initialize),
    SWAP_V3: ("V3 Swap", 3, 5, _swap_v3),
    MINT_V3: ("V3 Mint", 4, 4, _mint),
    BURN_V3: ("V3 Burn", 4, 3, _burn),
}
"""topic0 -> (name, number of topics, number of 32-byte data words, builder)."""


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


def decode_log(log: Mapping[str, Any]) -> Event | None:
    """The pool event a raw log carries, or ``None`` when it is none of the six known events."""
    topics = _topics(log)
    if not topics:
        return None
    layout = _LAYOUTS.get(topics[0].lower())
    if layout is None:
        return None
    name, n_topics, n_words, build = layout
    block = _quantity(log, "blockNumber", "block_number")
    index = _quantity(log, "logIndex", "log_index")
    data = _data(log)
    if len(topics) != n_topics or len(data) != 32 * n_words:
        raise LogDecodeError(
            f"log {index} of block {block} from {log.get('address')} has the {name} signature "
            f"but {len(topics)} topics and {len(data)} data bytes (expected {n_topics} and "
            f"{32 * n_words}): a look-alike event, not a Uniswap pool's",
            (block, index),
        )
    base = {
        "address": _checksum(str(log["address"])),
        "block_number": block,
        "transaction_index": _quantity(log, "transactionIndex", "transaction_index"),
        "log_index": index,
    }
    words = [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]
    return build(base, [int(t, 16) for t in topics], words)
