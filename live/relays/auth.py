"""The ``X-Flashbots-Signature`` header: ``<address>:<signature>``, where the signature is the
EIP-191 personal-sign of the 0x-prefixed hex keccak256 of the exact request body bytes.

``flashbots_signature`` signs (the searcher identity's key); ``verify_flashbots_signature``
(from ``workbench.chain.flashbots``) checks, for relays we run ourselves (the devnet builder
relay).
"""

from __future__ import annotations

from functools import lru_cache

from live.signer import SearcherIdentity
from workbench.chain.flashbots import HEADER, BadSignature, body_digest, verify_flashbots_signature

__all__ = ["HEADER", "BadSignature", "flashbots_signature", "verify_flashbots_signature"]


@lru_cache(maxsize=256)
def flashbots_signature(identity: SearcherIdentity, body: bytes) -> str:
    """The header value for ``body``; cached, since fan-outs often send one body many times."""
    return f"{identity.address}:{identity.sign_text(body_digest(body))}"
