"""A recorded block mined again on Anvil as it happened, and its receipts checked.

Before mining: the recorded coinbase, base fee and gas limit (and the timestamp, with the
block). Transactions go in recorded order: the signed bytes when the dataset has them, else
the same transaction sent unsigned from its impersonated sender (from, nonce, to, value,
input, gas, fees, access list, type), as for ethereum-etl exports without signatures. Anvil
cannot set a block's prevrandao: a contract that reads it may replay differently.

Each receipt is compared with the recording (status, gas used, cumulative gas, logs); a
mismatch is classified by cause: ``unsupported type`` (a transaction Anvil cannot take as
recorded, such as a blob transaction without its sidecar), ``missing upstream state`` (the
archive node failed to answer while the block ran), ``prevrandao`` (the transaction read it),
or ``other``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from workbench.chain.anvil_control import AnvilControl
from workbench.engine.fidelity import Fidelity, compare
from workbench.errors import DatasetError, RpcError
from workbench.rpc import unwrap_batch
from workbench.sources.block_view import BlockData

SUPPORTED_TYPES = frozenset({0, 1, 2, 4})
"""Transaction types replayed as recorded (3, blob transactions, need sidecars we lack)."""
CAUSES = ("unsupported type", "missing upstream state", "prevrandao", "other")


def _unsigned(tx: dict[str, Any]) -> dict[str, Any]:
    """The recorded transaction as ``eth_sendTransaction`` takes it from its sender."""
    fields: dict[str, Any] = {
        "from": tx["from"],
        "nonce": hex(int(tx["nonce"])),
        "value": hex(int(tx["value"])),
        "gas": hex(int(tx["gas"])),
        "input": tx["input"],
    }
    if tx.get("to"):
        fields["to"] = tx["to"]
    kind = int(tx["type"]) if tx.get("type") is not None else 0
    fields["type"] = hex(kind)
    if tx.get("max_fee_per_gas") is not None:
        fields["maxFeePerGas"] = hex(int(tx["max_fee_per_gas"]))
        fields["maxPriorityFeePerGas"] = hex(int(tx["max_priority_fee_per_gas"] or 0))
    else:
        fields["gasPrice"] = hex(int(tx["gas_price"]))
    if tx.get("access_list"):
        fields["accessList"] = json.loads(tx["access_list"])
    return fields


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
    ]
    settings = len(calls)
    sent: list[int] = []  # indexes of the transactions sent
    unsupported: set[int] = set()
    impersonated: set[str] = set()
    for i, tx in enumerate(block.transactions):
        kind = int(tx["type"]) if tx.get("type") is not None else 0
        if kind not in SUPPORTED_TYPES and not tx.get("raw"):
            unsupported.add(i)
            continue
        if tx.get("raw"):
            calls.append(("eth_sendRawTransaction", [tx["raw"]]))
        else:
            sender = str(tx["from"]).lower()
            if sender not in impersonated:
                impersonated.add(sender)
                calls.append(("anvil_impersonateAccount", [sender]))
            calls.append(("eth_sendTransaction", [_unsigned(tx)]))
        sent.append(i)
    answers = node.rpc.batch(calls)
    try:
        unwrap_batch(answers[:settings])
    except RpcError as err:
        raise DatasetError(f"block {block.number}: Anvil refused its settings ({err})") from None
    hashes = [a for (m, _), a in zip(calls, answers, strict=True) if m.startswith("eth_send")]
    if impersonated:
        node.rpc.batch([("anvil_stopImpersonatingAccount", [s]) for s in sorted(impersonated)])
    node.mine(timestamp=block.timestamp)
    answer_of = dict(zip(sent, hashes, strict=True))  # a hash, or why it was refused
    ok = [(i, h) for i, h in answer_of.items() if isinstance(h, str)]
    receipts = unwrap_batch(node.rpc.batch([("eth_getTransactionReceipt", [h]) for _, h in ok]))
    got = {i: r for (i, _), r in zip(ok, receipts, strict=True)}
    failed_upstream = upstream_errors is not None and upstream_errors() > errors_before
    fidelity = Fidelity()
    for i, tx in enumerate(block.transactions):
        recorded = block.receipts[tx["hash"]]
        if i in unsupported:
            problem: str | None = f"{tx['hash']}: type {tx['type']} is not replayed (no sidecar)"
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
