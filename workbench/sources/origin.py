"""Where a dataset's replay starts, as its manifest says (``"origin"``).

- ``genesis``: a state file inside the dataset (what devnet histories have): Anvil loads it
  with the chain's settings and must come up at the recorded head (checked by hash).
- ``fork``: a real chain's blocks (ingested or imported). The replay forks an archive node at
  the dataset's first block - 1; the node's URL is given at run time and never stored.

A manifest written before origins existed has none: such a dataset came from a node or an
export, so it is taken as ``fork``.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from workbench.errors import DatasetError


@dataclass(frozen=True, slots=True, kw_only=True)
class GenesisOrigin:
    """A state file to load, and the head it must give."""

    state: str  # relative to the dataset directory (gzipped JSON of Anvil's --load-state)
    sha256: str
    block_number: int
    block_hash: str
    hardfork: str
    timestamp: int  # the chain's genesis timestamp (Anvil's clock starts there)
    gas_limit: int
    coinbase: str

    kind: ClassVar[str] = "genesis"

    def state_bytes(self, root: Path) -> bytes:
        """The state as Anvil's ``--load-state`` reads it, checked against its sha256."""
        path = root / self.state
        try:
            packed = path.read_bytes()
        except OSError as exc:
            raise DatasetError(f"{path}: the genesis state is unreadable ({exc})") from None
        if hashlib.sha256(packed).hexdigest() != self.sha256:
            raise DatasetError(f"{path}: checksum mismatch (the genesis state changed)")
        return gzip.decompress(packed)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ForkOrigin:
    """Fork an archive node of chain ``chain_id`` at ``block_number``."""

    chain_id: int
    block_number: int

    kind: ClassVar[str] = "fork"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind}  # chain id and block follow from the manifest


Origin = GenesisOrigin | ForkOrigin


def origin_of(manifest: Mapping[str, Any], where: str) -> Origin:
    """The origin a manifest (of the dataset at ``where``) declares."""
    raw = manifest.get("origin") or {"kind": "fork"}
    kind = raw.get("kind") if isinstance(raw, Mapping) else None
    if kind == "genesis":
        fields = {k: v for k, v in raw.items() if k != "kind"}
        try:
            return GenesisOrigin(**fields)
        except TypeError as exc:
            raise DatasetError(f"{where}: a malformed genesis origin ({exc})") from None
    if kind == "fork":
        held = manifest.get("block_range")
        if not held:
            raise DatasetError(f"{where} holds no blocks: nothing to fork before")
        return ForkOrigin(chain_id=int(manifest["chain_id"]), block_number=int(held[0]) - 1)
    raise DatasetError(f"{where}: unknown origin {raw!r}; expected kind 'genesis' or 'fork'")
