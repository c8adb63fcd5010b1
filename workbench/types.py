"""Types shared by every layer: addresses, amounts, block numbers.

Amounts are always ``int`` in the token's base units (wei for ETH); never ``float``.
"""

from __future__ import annotations

from typing import NewType

from eth_utils import to_checksum_address

Address = NewType("Address", str)
"""A 0x-prefixed, EIP-55 checksummed 20-byte address."""

Wei = NewType("Wei", int)
"""An amount of ETH (or of a token, in its base units)."""

BlockNumber = NewType("BlockNumber", int)

Hash32 = NewType("Hash32", str)
"""A 0x-prefixed 32-byte hex string (transaction or block hash)."""


def address(value: str | bytes) -> Address:
    """Normalises an address given as hex text or 20 raw bytes to its checksummed form."""
    if isinstance(value, bytes):
        if len(value) != 20:
            raise ValueError(f"an address is 20 bytes, got {len(value)}")
        value = "0x" + value.hex()
    return Address(to_checksum_address(value))


ETHER = Wei(10**18)
"""One ether in wei."""
