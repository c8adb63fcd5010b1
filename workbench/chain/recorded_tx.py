"""A recorded transaction sent to Anvil again: its signed bytes when the dataset has them, else
the same transaction unsigned from its impersonated sender.

ethereum-etl and cryo exports carry no signatures, and a blob transaction's (type 3) signed
bytes lack the sidecar Anvil asks of a signed one: those go unsigned (from, nonce, to, value,
input, gas, fees, access list, type, and a blob transaction's blob fields). A ``Sendable`` is
either form: a hex string of signed bytes, or the fields ``eth_sendTransaction`` takes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Sendable = str | Mapping[str, Any]
Call = tuple[str, list[Any]]


def unsigned_fields(tx: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded transaction (a dataset row) as ``eth_sendTransaction`` takes it."""
    fields: dict[str, Any] = {
        "from": tx["from"],
        "nonce": hex(int(tx["nonce"])),
        "value": hex(int(tx["value"])),
        "gas": hex(int(tx["gas"])),
        "input": tx["input"],
    }
    if tx.get("to"):
        fields["to"] = tx["to"]
    kind = tx_type(tx)
    fields["type"] = hex(kind)
    if tx.get("max_fee_per_gas") is not None:
        fields["maxFeePerGas"] = hex(int(tx["max_fee_per_gas"]))
        fields["maxPriorityFeePerGas"] = hex(int(tx["max_priority_fee_per_gas"] or 0))
    else:
        fields["gasPrice"] = hex(int(tx["gas_price"]))
    if tx.get("access_list"):
        fields["accessList"] = json.loads(tx["access_list"])
    if kind == 3:
        fields["maxFeePerBlobGas"] = hex(int(tx["max_fee_per_blob_gas"]))
        fields["blobVersionedHashes"] = json.loads(tx["blob_versioned_hashes"])
    return fields


def tx_type(tx: Mapping[str, Any]) -> int:
    return int(tx["type"]) if tx.get("type") is not None else 0


def sendable(tx: Mapping[str, Any]) -> Sendable:
    """How the recorded transaction is sent again: signed bytes, or unsigned fields."""
    raw = tx.get("raw")
    return str(raw) if raw and tx_type(tx) != 3 else unsigned_fields(tx)


def send_calls(items: Iterable[Sendable], impersonated: set[str]) -> list[Call]:
    """The calls that send ``items`` in order; each unsigned one's sender is impersonated
    first, once (added to ``impersonated``: stop it after mining, when Anvil has checked
    the transactions again; see ``stop_calls``)."""
    calls: list[Call] = []
    for item in items:
        if isinstance(item, str):
            calls.append(("eth_sendRawTransaction", [item]))
            continue
        sender = str(item["from"]).lower()
        if sender not in impersonated:
            impersonated.add(sender)
            calls.append(("anvil_impersonateAccount", [sender]))
        calls.append(("eth_sendTransaction", [dict(item)]))
    return calls


def is_send(call: Call) -> bool:
    return call[0].startswith("eth_send")


def stop_calls(impersonated: Iterable[str]) -> list[Call]:
    return [("anvil_stopImpersonatingAccount", [s]) for s in sorted(impersonated)]
