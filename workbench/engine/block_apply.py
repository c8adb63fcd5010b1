"""A recorded block mined again on Anvil as it happened, and its receipts checked.

Before mining: the recorded coinbase, base fee and gas limit (and the timestamp, with the
block), and the EIP-4788 beacon root the block's system call stores (Anvil 1.7.1 makes no such
call: the root is written into the beacon-roots contract's ring buffer). Transactions go in
recorded order: the signed bytes when the dataset has them, else the same transaction sent
unsigned from its impersonated sender (from, nonce, to, value, input, gas, fees, access list,
type), as for ethereum-etl exports without signatures. A blob transaction (type 3) is always
sent so, with its blob fee cap and versioned hashes: its signed bytes lack the sidecar Anvil
asks of a signed one. After mining, the block's EIP-4895 withdrawals are credited. Anvil
cannot set a block's prevrandao: a contract that reads it may replay differently; nor can a
fork's own block hashes be the recorded ones (BLOCKHASH and the EIP-2935 history contract
answer Anvil's).

Each receipt is compared with the recording (status, gas used, cumulative gas, logs); a
mismatch is classified by cause: ``unsupported type`` (a transaction Anvil cannot take as
recorded, such as a blob transaction without its sidecar), ``missing upstream state`` (the
archive node failed to answer while the block ran), ``prevrandao`` (the transaction read it),
or ``other``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.chain.anvil_control import AnvilControl
from workbench.chain.recorded_tx import is_send, send_calls, sendable, stop_calls, tx_type
from workbench.engine.fidelity import Fidelity, compare
from workbench.errors import DatasetError, RpcError
from workbench.rpc import unwrap_batch
from workbench.sources.block_view import BlockData

SUPPORTED_TYPES = frozenset({0, 1, 2, 3, 4})
"""Transaction types replayed (3 only with its blob fields recorded)."""
BEACON_ROOTS = "0x000f3df6d732807ef1319fb7b8bb8522d0beac02"
"""The EIP-4788 contract: block N's system call stores (timestamp, parent beacon root)."""
_RING = 8191
_GWEI = 10**9
CAUSES = ("unsupported type", "missing upstream state", "prevrandao", "other")


def _replayable(tx: dict[str, Any], kind: int) -> bool:
    if kind == 3:
        return bool(tx.get("max_fee_per_blob_gas") and tx.get("blob_versioned_hashes"))
    return kind in SUPPORTED_TYPES or bool(tx.get("raw"))


def _word(n: int | str) -> str:
    return "0x" + (int(n, 16) if isinstance(n, str) else n).to_bytes(32, "big").hex()


def beacon_root_calls(block: BlockData) -> list[tuple[str, list[Any]]]:
    """The storage the block's EIP-4788 system call writes (none for a zero or absent root:
    a chain before Cancun, or a devnet)."""
    root = block.parent_beacon_block_root
    if not root or int(root, 16) == 0:
        return []
    at = block.timestamp % _RING
    return [
        ("anvil_setStorageAt", [BEACON_ROOTS, hex(at), _word(block.timestamp)]),
        ("anvil_setStorageAt", [BEACON_ROOTS, hex(at + _RING), _word(root)]),
    ]


def withdrawal_calls(block: BlockData) -> list[tuple[str, list[Any]]]:
    """The block's EIP-4895 withdrawals, each credited in wei to its address."""
    return [
        ("anvil_addBalance", [w["address"], hex(int(w["amount"]) * _GWEI)])
        for w in block.withdrawals
    ]


def apply_block(
    node: AnvilControl,
    block: BlockData,
    *,
    upstream_errors: Callable[[], int] | None = None,
) -> Fidelity:
    """Mines ``block`` on ``node`` and compares every receipt with the recording.

    The settings and the transactions go in one batch: Anvil takes a batch's calls in order
    while each completes without waiting (as these do), and its pool keeps arrival order; a
    transaction taken out of order shows as a mismatch, never passes unseen.
    ``upstream_errors`` counts the fork node's failed answers so far (a fork replay)."""
    errors_before = upstream_errors() if upstream_errors else 0
    calls: list[tuple[str, list[Any]]] = [
        ("anvil_setCoinbase", [block.miner]),
        ("anvil_setNextBlockBaseFeePerGas", [hex(block.base_fee)]),
        ("evm_setBlockGasLimit", [hex(block.gas_limit)]),
        *beacon_root_calls(block),
    ]
    settings = len(calls)
    sent: list[int] = []  # indexes of the transactions sent
    unsupported: set[int] = set()
    impersonated: set[str] = set()
    for i, tx in enumerate(block.transactions):
        if not _replayable(tx, tx_type(tx)):
            unsupported.add(i)
            continue
        calls += send_calls([sendable(tx)], impersonated)
        sent.append(i)
    answers = node.rpc.batch(calls)
    try:
        unwrap_batch(answers[:settings])
    except RpcError as err:
        raise DatasetError(f"block {block.number}: Anvil refused its settings ({err})") from None
    hashes = [a for c, a in zip(calls, answers, strict=True) if is_send(c)]
    node.mine(timestamp=block.timestamp)  # impersonation ends after it: Anvil checks again
    answer_of = dict(zip(sent, hashes, strict=True))  # a hash, or why it was refused
    ok = [(i, h) for i, h in answer_of.items() if isinstance(h, str)]
    after = [
        *(("eth_getTransactionReceipt", [h]) for _, h in ok),
        *withdrawal_calls(block),
        *stop_calls(impersonated),
    ]
    receipts = unwrap_batch(node.rpc.batch(after))[: len(ok)]
    got = {i: r for (i, _), r in zip(ok, receipts, strict=True)}
    failed_upstream = upstream_errors is not None and upstream_errors() > errors_before
    fidelity = Fidelity()
    for i, tx in enumerate(block.transactions):
        recorded = block.receipts[tx["hash"]]
        if i in unsupported:
            problem: str | None = (
                f"{tx['hash']}: type {tx['type']} is not replayed (its blob fields are not "
                "recorded: ingest the block again)"
                if str(tx.get("type")) == "3"
                else f"{tx['hash']}: type {tx['type']} is not replayed"
            )
        else:
            sent_error = answer_of[i]
            problem = (
                f"{tx['hash']}: not accepted ({sent_error.message})"
                if isinstance(sent_error, RpcError)
                else compare(tx["hash"], got.get(i), recorded, block.logs_of(tx["hash"]))
            )
        if problem is None:
            fidelity.matched += 1
            continue
        cause = (
            "unsupported type"
            if i in unsupported
            else "missing upstream state"
            if failed_upstream
            else "prevrandao"
            if i in got and _reads_prevrandao(node, got[i])
            else "other"
        )
        fidelity.mismatches.append(problem)
        fidelity.causes[cause] = fidelity.causes.get(cause, 0) + 1
    return fidelity


def _reads_prevrandao(node: AnvilControl, receipt: dict[str, Any] | None) -> bool:
    """Whether the replayed transaction executed PREVRANDAO (an opcode trace)."""
    if receipt is None:
        return False
    try:
        trace = node.rpc.call(
            "debug_traceTransaction",
            [receipt["transactionHash"], {"disableStorage": True, "disableStack": True}],
        )
    except RpcError:
        return False
    return any(s.get("op") in ("PREVRANDAO", "DIFFICULTY") for s in trace.get("structLogs", []))
