"""From an approved intent to a bundle at the relays: sign its transaction with a reserved
nonce and fan the bundle out (a backrun carries its target's signed bytes first).

One bundle per target block is in flight per account: a later intent for the same block
replaces it only when it expects more (same nonce, same ``replacementUuid``, so at most one
of them can ever land), else it is skipped. After the target block, ``settle`` confirms or
releases the nonce; ``unsettle`` puts the bundle back in flight when a reorg orphaned the block. ``prepare`` reserves the next target block's nonce ahead of time on a
background thread, so that signing never waits for the nonce file to reach the disk.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Executor, Future
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from live.nonces import NonceManager
from live.relays import BundleRequest, FanOut, Submission
from workbench.execution.bundle import ExecutionConfig, SignedTx, executor_calldata, sign_call
from workbench.execution.simulate import SimResult
from workbench.strategy.context import BlockEnv
from workbench.strategy.intents import ArbIntent


@dataclass(frozen=True, slots=True)
class Sent:
    """One bundle sent for ``target_block``: our transaction, the bundle and each relay's answer."""

    key: str
    target_block: int
    expected_net: int
    tx: SignedTx
    bundle: BundleRequest
    submissions: tuple[Submission, ...]
    started_ns: int  # perf_counter_ns when the bundle went to the relays

    @property
    def accepted(self) -> bool:
        return any(s.ok for s in self.submissions)


def expected_net(sim: SimResult) -> int:
    """The simulation's net: gross profit less the bid and the gas."""
    return sim.profit - sim.bid_paid - sim.gas_cost


class BundleSender:
    """Signs and sends bundles for one account (see the module docstring). Not thread-safe:
    one runner loop calls it."""

    def __init__(
        self, account: LocalAccount, cfg: ExecutionConfig, nonces: NonceManager, fanout: FanOut
    ) -> None:
        self.account = account
        self.cfg = cfg
        self.nonces = nonces
        self.fanout = fanout
        self.in_flight: dict[int, Sent] = {}  # target block -> the bundle in flight for it
        self._prepared: dict[int, Future[int]] = {}  # target block -> its reserved nonce
        self.settled: dict[int, Sent] = {}  # target block -> its bundle, until final

    def prepare(self, target_block: int, executor: Executor) -> None:
        """Reserves the nonce for ``target_block``'s first bundle on ``executor``. Unused, it
        is released like any reservation whose block passed (``NonceManager.sync``)."""
        if target_block not in self.in_flight and target_block not in self._prepared:
            self._prepared[target_block] = executor.submit(self.nonces.reserve, target_block)

    def better_than_in_flight(self, target_block: int, net: int) -> bool:
        current = self.in_flight.get(target_block)
        return current is None or net > current.expected_net

    def sign(
        self, intent: ArbIntent, sim: SimResult, env: BlockEnv, target_block: int
    ) -> tuple[SignedTx, str]:
        """Our transaction for ``intent`` (the in-flight bundle's nonce if it replaces one)."""
        current = self.in_flight.get(target_block)
        prepared = self._prepared.pop(target_block, None)
        if current is not None:
            nonce = current.tx.nonce
        elif prepared is not None:
            nonce = prepared.result()
        else:
            nonce = self.nonces.reserve(target_block)
        tx = sign_call(
            self.account,
            self.cfg,
            self.cfg.executor,
            executor_calldata(intent, self.cfg.v3_factories),
            nonce=nonce,
            gas_limit=sim.gas_limit,
            base_fee=env.base_fee,
            priority_fee=intent.priority_fee,
        )
        uuid_ = current.bundle.replacement_uuid if current else str(uuid.uuid4())
        assert uuid_ is not None
        return tx, uuid_

    def send(
        self,
        intent: ArbIntent,
        sim: SimResult,
        tx: SignedTx,
        replacement_uuid: str,
        target_block: int,
        before: tuple[str, ...] = (),
    ) -> Sent:
        """Sends ``before`` (a backrun's target) + ``tx`` for ``target_block`` to every relay."""
        started_ns = time.perf_counter_ns()
        bundle = BundleRequest(
            txs=(*before, tx.raw), block=target_block, replacement_uuid=replacement_uuid
        )
        submissions = tuple(self.fanout.send_bundle(bundle))
        sent = Sent(
            intent.key, target_block, expected_net(sim), tx, bundle, submissions, started_ns
        )
        if sent.accepted or target_block not in self.in_flight:
            self.in_flight[target_block] = sent
        return sent

    def settle(self, target_block: int, mined_hashes: set[str]) -> Sent | None:
        """After ``target_block``: confirms the nonce of the bundle that landed, or releases it
        (a nonce prepared but never used is released by the next ``NonceManager.sync``)."""
        for block in [b for b in self._prepared if b <= target_block]:
            self._prepared.pop(block).result()  # on disk before anything is released
        sent = self.in_flight.pop(target_block, None)
        if sent is None:
            return None
        self.settled[target_block] = sent
        if sent.tx.hash.lower() in mined_hashes:
            self.nonces.confirm(sent.tx.nonce)
        else:
            self.nonces.release(sent.tx.nonce)
        return sent

    def unsettle(self, target_block: int) -> None:
        """A reorg orphaned ``target_block``: its bundle is in flight again, to be settled
        against the block that replaced it (the nonce floor is rewound by the runner)."""
        sent = self.settled.pop(target_block, None)
        if sent is not None:
            self.in_flight[target_block] = sent

    def finalise(self, through_block: int) -> None:
        """The bundles of blocks up to ``through_block`` are settled for good."""
        for block in [b for b in self.settled if b <= through_block]:
            del self.settled[block]
