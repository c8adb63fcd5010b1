"""One bundle to several relays and builders at once, under one ``replacementUuid``.

Every relay gets a bundle at most once per target block (keyed by relay, bundle hash and
block): asking again returns ``duplicate`` records and sends nothing. A relay that does not
accept the bundle (no answer after its retries, or a rejection) hands it to the next unused
fallback relay. Every request made, or skipped as a duplicate, comes back as a ``Submission``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from live.relays.bundles import BundleRequest
from live.relays.client import Relay
from live.relays.records import Submission
from workbench.errors import ConfigError

__all__ = ["FanOut"]


class FanOut:
    """Sends to ``relays`` in parallel; ``fallbacks`` in order, each taking over a failed relay.

    Remembers what it sent for the last ``keep_blocks`` target blocks. Thread-safe.
    """

    def __init__(
        self, relays: Sequence[Relay], fallbacks: Sequence[Relay] = (), *, keep_blocks: int = 64
    ) -> None:
        if not relays:
            raise ConfigError("a fan-out needs at least one relay (--relay NAME_OR_URL)")
        names = [r.name for r in (*relays, *fallbacks)]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"relay names must differ, {twice} given twice; name them apart")
        self.relays = tuple(relays)
        self.fallbacks = tuple(fallbacks)
        self.keep_blocks = keep_blocks
        self._sent: set[tuple[str, str, int]] = set()
        self._newest = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(len(self.relays), thread_name_prefix="relay")

    def send_bundle(self, bundle: BundleRequest) -> list[Submission]:
        """Records for every relay in order, each followed by the fallbacks that replaced it.

        A bundle without a ``replacement_uuid`` gets a fresh one (the same at every relay), so
        that it can be replaced or cancelled everywhere; the records carry it.
        """
        if bundle.replacement_uuid is None:
            bundle = dataclasses.replace(bundle, replacement_uuid=str(uuid.uuid4()))
        if len(self.relays) == 1:
            return self._deliver(self.relays[0], bundle)
        futures = [self._pool.submit(self._deliver, r, bundle) for r in self.relays]
        return [s for f in futures for s in f.result()]

    def cancel(self, replacement_uuid: str, block: int) -> list[Submission]:
        """Cancels the bundles sent under ``replacement_uuid`` at every relay and fallback."""
        relays = (*self.relays, *self.fallbacks)
        futures = [self._pool.submit(r.cancel_bundle, replacement_uuid, block) for r in relays]
        return [f.result() for f in futures]

    def _deliver(self, relay: Relay, bundle: BundleRequest) -> list[Submission]:
        if not self._claim(relay, bundle):
            return [_duplicate(relay, bundle)]
        out = [relay.send_bundle(bundle)]
        while not out[-1].ok:
            fallback = self._next_fallback(bundle)
            if fallback is None:
                break
            out.append(fallback.send_bundle(bundle))
        return out

    def _claim(self, relay: Relay, bundle: BundleRequest) -> bool:
        """Marks the bundle as sent to ``relay``; False if it already was."""
        key = (relay.name, bundle.hash, bundle.block)
        with self._lock:
            if key in self._sent:
                return False
            self._sent.add(key)
            if bundle.block > self._newest:
                self._newest = bundle.block
                oldest = self._newest - self.keep_blocks
                self._sent = {k for k in self._sent if k[2] > oldest}
            return True

    def _next_fallback(self, bundle: BundleRequest) -> Relay | None:
        for fallback in self.fallbacks:
            if self._claim(fallback, bundle):
                return fallback
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for relay in (*self.relays, *self.fallbacks):
            relay.close()

    def __enter__(self) -> FanOut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _duplicate(relay: Relay, bundle: BundleRequest) -> Submission:
    return Submission(
        relay=relay.name,
        url=relay.url,
        method=relay.send_method,
        target_block=bundle.block,
        bundle_hash=bundle.hash,
        replacement_uuid=bundle.replacement_uuid,
        status="duplicate",
        attempts=0,
        latency_ms=0.0,
        sent_at=time.time(),
        error=f"not sent: {relay.name} already has bundle {bundle.hash} for block {bundle.block}",
    )
