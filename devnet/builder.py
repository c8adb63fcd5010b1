"""The devnet builder: which bundles go at the top of the next block, and in which order.

Each bundle for block N is tried alone on the parent state in a trial block (mined inside
``evm_snapshot``/``evm_revert``, so nothing stays); its **payment** is the coinbase's balance
increase (priority fees plus direct transfers). A bundle is invalid when one of its
transactions cannot be sent, is left out of the trial block, or reverts without being allowed
to, or when its timestamps exclude the block. Then greedily, highest payment first (ties: first
received), each is tried again on top of those already chosen and kept while it is still valid
and still pays. The trial blocks include whatever is in Anvil's pool, so the caller empties it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.chain.anvil_control import AnvilControl
from workbench.chain.flashbots import tx_hash
from workbench.errors import RpcError

HASH_LENGTH = 66  # "0x" + 32 bytes: a bundle item this long names a pending tx, not a signed one


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayBundle:
    """A bundle as the relay accepted it, for blocks ``block..max_block``.

    ``items`` are signed transactions (0x hex) or, from ``mev_sendBundle``, hashes of pending
    public transactions (exactly 32 bytes).
    """

    hash: str
    items: tuple[str, ...]
    block: int
    max_block: int
    signer: str
    method: str
    received_at: float
    seq: int  # order of arrival at the relay
    min_timestamp: int | None = None
    max_timestamp: int | None = None
    may_revert: frozenset[str] = frozenset()  # transaction hashes allowed to revert
    replacement_uuid: str | None = None

    @property
    def tx_hashes(self) -> tuple[str, ...]:
        return tuple(i if len(i) == HASH_LENGTH else tx_hash(i) for i in self.items)


@dataclass(frozen=True, slots=True)
class BlockSlot:
    """The block being built: its number, timestamp and coinbase."""

    number: int
    timestamp: int
    coinbase: str


@dataclass(frozen=True, slots=True)
class TxResult:
    """One transaction of a trial block."""

    hash: str
    sender: str
    to: str | None
    status: int  # 1 success, 0 reverted
    gas_used: int
    gas_price: int  # effective, wei per gas
    tip_fees: int  # gas used times the priority fee actually paid: the coinbase's share
    to_coinbase: int = 0  # ETH sent to the coinbase by calls (traced runs only)
    output: str = "0x"
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TrialBlock:
    """Transactions mined in a trial block on the parent state; ``error`` when one could not
    be sent or was left out (then ``txs`` holds those that ran)."""

    txs: tuple[TxResult, ...]
    coinbase_diff: int
    base_fee: int
    error: str | None = None


def trial(
    node: AnvilControl, raws: Sequence[str], slot: BlockSlot, *, trace: bool = False
) -> TrialBlock:
    """Mines ``raws`` (in order, alone) at the top of ``slot`` and reverts; ``trace`` also
    follows the calls for ETH sent to the coinbase, the output and the revert reason."""
    rpc = node.rpc
    snap = node.snapshot()
    try:
        rpc.call("anvil_setCoinbase", [slot.coinbase])
        before = int(rpc.call("eth_getBalance", [slot.coinbase, "latest"]), 16)
        sent, error = [], None
        for i, raw in enumerate(raws):
            try:
                sent.append(rpc.call("eth_sendRawTransaction", [raw]))
            except RpcError as exc:
                error = f"transaction {i} ({tx_hash(raw)}) cannot be sent: {exc.message}"
                break
        node.mine(timestamp=slot.timestamp)
        block = rpc.call("eth_getBlockByNumber", ["latest", False])
        base_fee = int(block["baseFeePerGas"], 16)
        mined = set(block["transactions"])
        results = []
        for i, h in enumerate(sent):
            if h not in mined:
                error = error or f"transaction {i} ({h}) was left out (nonce gap or no gas left)"
                continue
            results.append(_result(node, h, base_fee, slot.coinbase, trace))
        after = int(rpc.call("eth_getBalance", [slot.coinbase, "latest"]), 16)
        return TrialBlock(tuple(results), after - before, base_fee, error)
    finally:
        rpc.call("anvil_dropAllTransactions")  # what was left out must not outlive the trial
        node.revert(snap)


def _result(node: AnvilControl, h: str, base_fee: int, coinbase: str, trace: bool) -> TxResult:
    r = node.rpc.call("eth_getTransactionReceipt", [h])
    gas, price = int(r["gasUsed"], 16), int(r["effectiveGasPrice"], 16)
    status = int(r["status"], 16)
    out: dict[str, Any] = {"error": None if status else "execution reverted"}
    if trace:
        frame = node.rpc.call("debug_traceTransaction", [h, {"tracer": "callTracer"}])
        out["to_coinbase"] = _sent_to(frame, coinbase.lower())
        out["output"] = frame.get("output") or "0x"
        if not status:
            out["error"] = frame.get("revertReason") or frame.get("error") or out["error"]
    return TxResult(h, r["from"], r.get("to"), status, gas, price, gas * (price - base_fee), **out)


def _sent_to(frame: dict[str, Any], coinbase: str) -> int:
    """ETH that reached ``coinbase`` through the successful calls of a callTracer frame."""
    if frame.get("error"):
        return 0
    own = int(frame.get("value") or "0x0", 16) if (frame.get("to") or "").lower() == coinbase else 0
    return own + sum(_sent_to(c, coinbase) for c in frame.get("calls") or [])


def failure(trial_: TrialBlock, may_revert: frozenset[str]) -> str | None:
    """Why a trial makes a bundle invalid, or None."""
    if trial_.error:
        return trial_.error
    for t in trial_.txs:
        if not t.status and t.hash not in may_revert:
            return f"transaction {t.hash} reverts ({t.error})"
    return None


@dataclass(frozen=True, slots=True)
class Included:
    bundle: RelayBundle
    payment: int  # wei to the coinbase caused by its transactions, on top of those before it
    raws: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    bundle: RelayBundle
    reason: str


@dataclass(frozen=True, slots=True)
class Selection:
    included: tuple[Included, ...] = ()
    rejected: tuple[Rejected, ...] = ()

    @property
    def raws(self) -> list[str]:
        """The chosen bundles' transactions, in block order."""
        return [raw for inc in self.included for raw in inc.raws]


def resolve(bundle: RelayBundle, pending: Mapping[str, str]) -> tuple[str, ...] | str:
    """The bundle's signed transactions (pending ones looked up by hash), or why not."""
    raws = []
    for item in bundle.items:
        if len(item) == HASH_LENGTH:
            if item not in pending:
                return f"{item} is not a pending public transaction of this block"
            raws.append(pending[item])
        else:
            raws.append(item)
    return tuple(raws)


def select_bundles(
    node: AnvilControl, bundles: Sequence[RelayBundle], slot: BlockSlot, pending: Mapping[str, str]
) -> Selection:
    """The bundles for ``slot`` that go at the top of its block, in order, and the others
    with their reasons. ``pending``: signed public transactions by hash (lowercase)."""
    rejected: list[Rejected] = []
    alone: list[tuple[int, RelayBundle, tuple[str, ...]]] = []
    seen: set[str] = set()
    for b in sorted(bundles, key=lambda b: b.seq):
        if b.hash in seen:
            continue  # the same bundle sent twice counts once
        seen.add(b.hash)
        lo, hi = b.min_timestamp, b.max_timestamp
        if (lo and slot.timestamp < lo) or (hi and slot.timestamp > hi):
            rejected.append(Rejected(b, f"its timestamps {lo}-{hi} exclude {slot.timestamp}"))
            continue
        raws = resolve(b, pending)
        if isinstance(raws, str):
            rejected.append(Rejected(b, raws))
            continue
        t = trial(node, raws, slot)
        why = failure(t, b.may_revert)
        if why is None and t.coinbase_diff <= 0:
            why = "it pays the builder nothing"
        if why:
            rejected.append(Rejected(b, why))
        else:
            alone.append((t.coinbase_diff, b, raws))
    included: list[Included] = []
    paid = 0
    for payment, b, raws in sorted(alone, key=lambda x: (-x[0], x[1].seq)):
        if included:
            t = trial(node, [*(r for i in included for r in i.raws), *raws], slot)
            why = failure(
                t, frozenset().union(b.may_revert, *(i.bundle.may_revert for i in included))
            )
            payment = t.coinbase_diff - paid
            if why is None and payment <= 0:
                why = "it pays nothing on top of the higher-paying bundles"
            if why:
                rejected.append(Rejected(b, f"on top of the higher-paying bundles: {why}"))
                continue
        included.append(Included(b, payment, raws))
        paid += payment
    return Selection(tuple(included), tuple(rejected))


@dataclass(frozen=True, slots=True)
class IncludedBundle:
    hash: str
    signer: str
    payment: int  # wei to the coinbase caused by its transactions
    tx_hashes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RejectedBundle:
    hash: str
    signer: str
    reason: str


@dataclass(frozen=True, slots=True)
class BuiltBlock:
    """One block the devnet mined: the bundles on top, and what became of the recorded txs."""

    number: int
    hash: str
    timestamp: int
    tx_count: int
    bundles: tuple[IncludedBundle, ...]
    rejected: tuple[RejectedBundle, ...]
    recorded_included: int  # recorded transactions in this block (also inside bundles)
    carried: int  # recorded transactions still waiting in the pool after it
    skipped: int  # recorded transactions that could not be sent during its slot

    @property
    def payment(self) -> int:
        return sum(b.payment for b in self.bundles)
