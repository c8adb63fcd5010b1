"""Relay clients for the live runner: Flashbots-compatible and MEV-Share bundles, bloXroute,
and a fan-out to several relays and builders with retries, fallback and dedupe."""

from __future__ import annotations

from live.relays.auth import HEADER, BadSignature, flashbots_signature, verify_flashbots_signature
from live.relays.bundles import (
    BundleRequest,
    MevShareBundle,
    MevShareHash,
    MevShareTx,
    Privacy,
    Refund,
    RefundConfig,
    tx_hash,
)
from live.relays.client import DEFAULT_RETRY, BloxrouteRelay, FlashbotsRelay, Relay
from live.relays.errors import RelayError, RelayRejected, RelayUnavailable
from live.relays.fanout import FanOut
from live.relays.known import BLOXROUTE_AUTH_ENV, KNOWN_RELAYS, relay_from
from live.relays.records import CallBundleResult, SimulatedTx, Status, Submission

__all__ = [
    "BLOXROUTE_AUTH_ENV",
    "DEFAULT_RETRY",
    "HEADER",
    "KNOWN_RELAYS",
    "BadSignature",
    "BloxrouteRelay",
    "BundleRequest",
    "CallBundleResult",
    "FanOut",
    "FlashbotsRelay",
    "MevShareBundle",
    "MevShareHash",
    "MevShareTx",
    "Privacy",
    "Refund",
    "RefundConfig",
    "Relay",
    "RelayError",
    "RelayRejected",
    "RelayUnavailable",
    "SimulatedTx",
    "Status",
    "Submission",
    "flashbots_signature",
    "relay_from",
    "tx_hash",
    "verify_flashbots_signature",
]
