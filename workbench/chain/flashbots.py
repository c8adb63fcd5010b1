"""The ``X-Flashbots-Signature`` header: ``<address>:<signature>``, where the signature is the
EIP-191 personal-sign of the 0x-prefixed hex keccak256 of the exact request body bytes.

Verification lives here, for relays we run ourselves (the devnet builder relay); signing with
a searcher identity is the live runner's (``live.relays.auth``).
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from workbench.errors import WorkbenchError
from workbench.types import Address, address

__all__ = [
    "HEADER",
    "BadSignature",
    "body_digest",
    "bundle_hash",
    "tx_hash",
    "verify_flashbots_signature",
]

HEADER = "X-Flashbots-Signature"


class BadSignature(WorkbenchError, ValueError):
    """A missing, malformed or wrong ``X-Flashbots-Signature``."""


def tx_hash(raw: str) -> str:
    """The hash of a signed transaction given as 0x hex (legacy or typed: keccak of its bytes)."""
    return "0x" + keccak(hexstr=raw).hex()


def bundle_hash(tx_hashes: Iterable[str]) -> str:
    """The Flashbots bundle hash: keccak256 of the concatenated transaction hashes."""
    return "0x" + keccak(b"".join(bytes.fromhex(h[2:]) for h in tx_hashes)).hex()


def body_digest(body: bytes) -> str:
    """What is signed: the 0x-prefixed lowercase hex keccak256 of the body."""
    return "0x" + keccak(body).hex()


def verify_flashbots_signature(header: str | None, body: bytes) -> Address:
    """The searcher address that signed ``body``; ``BadSignature`` when it does not hold."""
    if not header:
        raise BadSignature(f"missing {HEADER} header; sign the body with the searcher identity")
    claimed, sep, signature = header.partition(":")
    try:
        if not sep:
            raise ValueError("no ':'")
        who = address(claimed)
        recovered = Account.recover_message(
            encode_defunct(text=body_digest(body)), signature=signature
        )
    except Exception as exc:  # eth-keys raises several types for bad signatures
        raise BadSignature(
            f"malformed {HEADER} ({type(exc).__name__}); expected <address>:<0x signature>"
        ) from None
    if address(recovered) != who:
        raise BadSignature(
            f"{HEADER} signed by {address(recovered)}, not by {who}: "
            "the signature must be of keccak256 of the exact body sent"
        )
    return who
