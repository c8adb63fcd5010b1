"""RLP encoding (a few lines; pyrlp's generic encoder is ten times slower): what raw
transactions are made of, on the path from an opportunity to its signed bundle."""

from __future__ import annotations

from typing import Any

Item = int | bytes | list[Any]


def rlp_encode(item: Item) -> bytes:
    """RLP of an int (minimal big-endian, 0 is empty), bytes, or a list of items."""
    if isinstance(item, int):
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if isinstance(item, bytes):
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _length(len(item), 0x80) + item
    payload = b"".join(rlp_encode(x) for x in item)
    return _length(len(payload), 0xC0) + payload


def _length(n: int, offset: int) -> bytes:
    if n < 56:
        return bytes([offset + n])
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size
