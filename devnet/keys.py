"""Keys and random streams derived from the seed: same seed, same agents, same draws.

Each (seed, purpose...) pair gets its own ``random.Random``, so that changing one agent's
behaviour never shifts another's draws. Only draws that are exact in IEEE arithmetic are
used downstream (``random()``, ``randrange``, sums, products and ``sqrt``), never ``gauss``
or ``expovariate`` (their ``log``/``exp`` come from the platform's libm).
"""

from __future__ import annotations

import hashlib
import random

from eth_account import Account
from eth_account.signers.local import LocalAccount

from workbench.types import Address, address

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _digest(seed: int, *labels: object) -> bytes:
    text = ":".join(["workbench-devnet", str(seed), *map(str, labels)])
    return hashlib.sha256(text.encode()).digest()


def stream(seed: int, *labels: object) -> random.Random:
    """An independent random stream for one purpose (e.g. ``stream(seed, "noise", 3, block)``)."""
    return random.Random(int.from_bytes(_digest(seed, "rng", *labels), "big"))


def agent_account(seed: int, role: str, index: int) -> LocalAccount:
    """The agent's signing account. Its key is never printed, logged or written anywhere."""
    key = int.from_bytes(_digest(seed, "key", role, index), "big") % (_SECP256K1_N - 1) + 1
    return Account.from_key(key.to_bytes(32, "big"))


def coinbase(seed: int) -> Address:
    """The block producer's fee recipient (an address nobody holds a key for)."""
    return address(_digest(seed, "coinbase")[:20])
