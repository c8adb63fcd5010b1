"""What a relay is sent: an ``eth_sendBundle``-style bundle and a MEV-Share (v0.1) bundle.

Both are frozen and validated on construction; ``hash`` is the Flashbots bundle hash
(keccak256 of the concatenated transaction hashes), the key under which a bundle is sent at
most once per relay and target block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from workbench.chain.flashbots import bundle_hash, tx_hash
from workbench.errors import ConfigError
from workbench.types import address

__all__ = [
    "MEV_SHARE_HINTS",
    "BundleRequest",
    "MevShareBundle",
    "MevShareHash",
    "MevShareTx",
    "Privacy",
    "Refund",
    "RefundConfig",
    "tx_hash",
]

MEV_SHARE_HINTS = frozenset(
    {"calldata", "contract_address", "logs", "function_selector", "hash", "tx_hash", "full"}
)
"""The privacy hints mev_sendBundle v0.1 knows."""

_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


def _raw_txs(txs: tuple[str, ...], what: str) -> None:
    for raw in txs:
        if not isinstance(raw, str) or not _HEX.fullmatch(raw):
            raise ConfigError(f"{what}: {str(raw)[:20]!r}... is not a 0x-hex signed transaction")


def _hashes(hashes: tuple[str, ...], what: str) -> None:
    for h in hashes:
        if not isinstance(h, str) or not _HASH.fullmatch(h):
            raise ConfigError(f"{what}: {h!r} is not a 0x-prefixed 32-byte hash")


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleRequest:
    """Signed transactions for one target block (``eth_sendBundle``, ``blxr_submit_bundle``)."""

    txs: tuple[str, ...]
    block: int
    min_timestamp: int | None = None
    max_timestamp: int | None = None
    reverting_tx_hashes: tuple[str, ...] = ()
    replacement_uuid: str | None = None
    builders: tuple[str, ...] = ()  # Flashbots multiplexing: registered builder names

    def __post_init__(self) -> None:
        if not self.txs:
            raise ConfigError("a bundle needs at least one signed transaction")
        _raw_txs(self.txs, "BundleRequest.txs")
        _hashes(self.reverting_tx_hashes, "BundleRequest.reverting_tx_hashes")
        if self.block <= 0:
            raise ConfigError(
                f"BundleRequest.block must be a future block number, got {self.block}"
            )
        lo, hi = self.min_timestamp, self.max_timestamp
        if (lo is not None and lo < 0) or (hi is not None and (hi < 0 or (lo or 0) > hi)):
            raise ConfigError(f"BundleRequest timestamps need 0 <= min <= max, got {lo}, {hi}")

    @property
    def tx_hashes(self) -> tuple[str, ...]:
        return tuple(tx_hash(raw) for raw in self.txs)

    @property
    def hash(self) -> str:
        return bundle_hash(list(self.tx_hashes))

    def flashbots_params(self) -> dict[str, Any]:
        """The ``eth_sendBundle`` parameter object (optional members only when set)."""
        params: dict[str, Any] = {"txs": list(self.txs), "blockNumber": hex(self.block)}
        if self.min_timestamp is not None:
            params["minTimestamp"] = self.min_timestamp
        if self.max_timestamp is not None:
            params["maxTimestamp"] = self.max_timestamp
        if self.reverting_tx_hashes:
            params["revertingTxHashes"] = list(self.reverting_tx_hashes)
        if self.replacement_uuid is not None:
            params["replacementUuid"] = self.replacement_uuid
        if self.builders:
            params["builders"] = list(self.builders)
        return params


@dataclass(frozen=True, slots=True)
class MevShareTx:
    """A signed transaction of ours in a MEV-Share bundle body."""

    tx: str
    can_revert: bool = False


@dataclass(frozen=True, slots=True)
class MevShareHash:
    """A transaction from the MEV-Share event stream, by hash (e.g. the one we backrun)."""

    hash: str


@dataclass(frozen=True, slots=True)
class Refund:
    """Pay ``percent`` of the bundle's value back to the sender of body item ``body_idx``."""

    body_idx: int
    percent: int


@dataclass(frozen=True, slots=True)
class RefundConfig:
    """Who receives our share of a refund, and what percent of it."""

    address: str
    percent: int


@dataclass(frozen=True, slots=True)
class Privacy:
    """What the matchmaker may reveal (``hints``) and which builders may receive the bundle."""

    hints: tuple[str, ...] = ()
    builders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.hints) - MEV_SHARE_HINTS
        if unknown:
            raise ConfigError(
                f"unknown MEV-Share hints {sorted(unknown)}; use some of {sorted(MEV_SHARE_HINTS)}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MevShareBundle:
    """A ``mev_sendBundle`` v0.1 bundle: inclusion blocks, body, validity, privacy."""

    body: tuple[MevShareTx | MevShareHash, ...]
    block: int
    max_block: int | None = None
    refund: tuple[Refund, ...] = ()
    refund_config: tuple[RefundConfig, ...] = ()
    privacy: Privacy | None = None

    def __post_init__(self) -> None:
        if not self.body:
            raise ConfigError("a MEV-Share bundle needs a body")
        _raw_txs(tuple(i.tx for i in self.body if isinstance(i, MevShareTx)), "MevShareBundle")
        _hashes(tuple(i.hash for i in self.body if isinstance(i, MevShareHash)), "MevShareBundle")
        if self.block <= 0 or (self.max_block is not None and self.max_block < self.block):
            raise ConfigError(
                f"MevShareBundle needs 0 < block <= max_block, got {self.block}, {self.max_block}"
            )
        for r in self.refund:
            if not 0 <= r.body_idx < len(self.body) or not 0 <= r.percent <= 100:
                raise ConfigError(f"refund {r} needs a body index and a percent in 0..100")
        for c in self.refund_config:
            try:
                address(c.address)
            except ValueError:
                raise ConfigError(f"refund config {c}: not an address") from None
            if not 0 <= c.percent <= 100:
                raise ConfigError(f"refund config {c} needs a percent in 0..100")

    @property
    def hash(self) -> str:
        return bundle_hash(
            [tx_hash(i.tx) if isinstance(i, MevShareTx) else i.hash for i in self.body]
        )

    def params(self) -> dict[str, Any]:
        """The ``mev_sendBundle`` parameter object (optional members only when set)."""
        inclusion: dict[str, Any] = {"block": hex(self.block)}
        if self.max_block is not None:
            inclusion["maxBlock"] = hex(self.max_block)
        params: dict[str, Any] = {
            "version": "v0.1",
            "inclusion": inclusion,
            "body": [
                {"tx": i.tx, "canRevert": i.can_revert}
                if isinstance(i, MevShareTx)
                else {"hash": i.hash}
                for i in self.body
            ],
        }
        validity: dict[str, Any] = {}
        if self.refund:
            validity["refund"] = [
                {"bodyIdx": r.body_idx, "percent": r.percent} for r in self.refund
            ]
        if self.refund_config:
            validity["refundConfig"] = [
                {"address": address(c.address), "percent": c.percent} for c in self.refund_config
            ]
        if validity:
            params["validity"] = validity
        if self.privacy is not None:
            privacy: dict[str, Any] = {}
            if self.privacy.hints:
                privacy["hints"] = list(self.privacy.hints)
            if self.privacy.builders:
                privacy["builders"] = list(self.privacy.builders)
            params["privacy"] = privacy
        return params
