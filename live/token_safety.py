"""Token safety: is a token safe to trade (no fee on transfer, sells not blocked)?

The risk manager asks a ``TokenSafety`` once per token, before the token's first use, and
caches the answer. The live runner plugs in a checker that simulates a buy and a sell on an
Anvil fork; ``InMemoryTokenSafety`` answers from a fixed table (tests, static lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class TokenSafety(Protocol):
    def check(self, token: str) -> str | None:
        """Why ``token`` (lowercase address) is unsafe to trade, or None if it is safe.

        May raise a ``WorkbenchError`` when it cannot tell (node down): the risk manager then
        rejects the intent without caching, so the token is checked again next time."""
        ...


class InMemoryTokenSafety:
    """Unsafe tokens from a table (address -> reason); every other token is safe. Records
    each token it was asked about in ``calls``, so tests can see the caching."""

    def __init__(self, unsafe: Mapping[str, str] | None = None) -> None:
        self.unsafe = {token.lower(): reason for token, reason in (unsafe or {}).items()}
        self.calls: list[str] = []

    def check(self, token: str) -> str | None:
        self.calls.append(token)
        return self.unsafe.get(token.lower())
