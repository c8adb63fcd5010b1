"""JSON-RPC objects (blocks, transactions, receipts, logs) to dataset table rows, exactly.

Pure functions, no I/O. Quantities arrive as 0x-hex (or as ints, from web3.py's formatted
objects) and become ints; wei amounts become decimal strings (uint256 fits no parquet integer);
addresses, hashes and data become lowercase 0x-hex; signature words ``r``/``s`` are padded to
32 bytes; access lists are stored as compact JSON text. Column types are in ``schema.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from workbench.sources.dataset import conform
from workbench.sources.schema import TABLES

Obj = Mapping[str, Any]
Row = dict[str, Any]


def quantity(value: Any) -> int | None:
    """A JSON-RPC quantity ("0x1a") or an int as an int; None stays None."""
    if value is None or isinstance(value, int):
        return value
    return int(value, 16)


def wei(value: Any) -> str | None:
    """A quantity as a decimal string (for uint256 amounts)."""
    n = quantity(value)
    return None if n is None else str(n)


def hexdata(value: Any) -> str | None:
    """Hashes, addresses, calldata: lowercase 0x-hex."""
    return None if value is None else str(value).lower()


def word(value: Any) -> str | None:
    """A 256-bit signature value as 0x + 64 hex digits (nodes strip leading zeros)."""
    n = quantity(value)
    return None if n is None else "0x" + n.to_bytes(32, "big").hex()


def access_list_json(value: Any) -> str | None:
    """An access list as compact JSON, addresses and keys lowercase; None when absent."""
    if value is None:
        return None
    items = [
        {
            "address": str(item["address"]).lower(),
            "storageKeys": [str(k).lower() for k in item.get("storageKeys", [])],
        }
        for item in value
    ]
    return json.dumps(items, separators=(",", ":"))


def withdrawals_json(value: Any) -> str | None:
    """A node's EIP-4895 withdrawals as the dataset's compact JSON (amounts in gwei); an
    export's are checked by ``importers.common.withdrawals``."""
    if value is None:
        return None
    items = [
        {
            "index": quantity(w["index"]),
            "validator_index": quantity(w["validatorIndex"]),
            "address": str(w["address"]).lower(),
            "amount": quantity(w["amount"]),
        }
        for w in value
    ]
    return json.dumps(items, separators=(",", ":"))


def hashes_json(value: Any) -> str | None:
    """A list of hashes (blob versioned hashes) as compact JSON, lowercase."""
    return None if value is None else json.dumps([str(h).lower() for h in value])


def block_row(block: Obj) -> Row:
    return {
        "number": quantity(block["number"]),
        "hash": hexdata(block["hash"]),
        "parent_hash": hexdata(block["parentHash"]),
        "timestamp": quantity(block["timestamp"]),
        "miner": hexdata(block.get("miner")),
        "gas_limit": quantity(block["gasLimit"]),
        "gas_used": quantity(block["gasUsed"]),
        "base_fee_per_gas": wei(block.get("baseFeePerGas")),
        "difficulty": wei(block.get("difficulty")),
        "extra_data": hexdata(block.get("extraData")),
        "state_root": hexdata(block.get("stateRoot")),
        "transactions_root": hexdata(block.get("transactionsRoot")),
        "receipts_root": hexdata(block.get("receiptsRoot")),
        "size": quantity(block.get("size")),
        "transaction_count": len(block.get("transactions") or ()),
        "mix_hash": hexdata(block.get("mixHash")),
        "parent_beacon_block_root": hexdata(block.get("parentBeaconBlockRoot")),
        "blob_gas_used": quantity(block.get("blobGasUsed")),
        "excess_blob_gas": quantity(block.get("excessBlobGas")),
        "withdrawals": withdrawals_json(block.get("withdrawals")),
    }


def _tx_fields(tx: Obj) -> Row:
    """The columns the transactions and mempool tables share."""
    return {
        "hash": hexdata(tx["hash"]),
        "from": hexdata(tx["from"]),
        "to": hexdata(tx.get("to")),
        "value": wei(tx["value"]),
        "gas": quantity(tx["gas"]),
        "gas_price": wei(tx.get("gasPrice")),
        "max_fee_per_gas": wei(tx.get("maxFeePerGas")),
        "max_priority_fee_per_gas": wei(tx.get("maxPriorityFeePerGas")),
        "input": hexdata(tx["input"]),
        "nonce": quantity(tx["nonce"]),
        "type": quantity(tx.get("type")),
        "chain_id": quantity(tx.get("chainId")),
    }


def transaction_row(tx: Obj, raw: str | None) -> Row:
    """A mined transaction; ``raw`` is its verified signed bytes as hex, or None."""
    return {
        "block_number": quantity(tx["blockNumber"]),
        "transaction_index": quantity(tx["transactionIndex"]),
        **_tx_fields(tx),
        "v": wei(tx.get("v")),
        "r": word(tx.get("r")),
        "s": word(tx.get("s")),
        "access_list": access_list_json(tx.get("accessList")),
        "raw": raw,
        "max_fee_per_blob_gas": wei(tx.get("maxFeePerBlobGas")),
        "blob_versioned_hashes": hashes_json(tx.get("blobVersionedHashes")),
    }


def receipt_row(receipt: Obj) -> Row:
    return {
        "block_number": quantity(receipt["blockNumber"]),
        "transaction_index": quantity(receipt["transactionIndex"]),
        "transaction_hash": hexdata(receipt["transactionHash"]),
        "status": quantity(receipt.get("status")),  # absent before Byzantium
        "gas_used": quantity(receipt["gasUsed"]),
        "cumulative_gas_used": quantity(receipt["cumulativeGasUsed"]),
        "effective_gas_price": wei(receipt.get("effectiveGasPrice")),
        "contract_address": hexdata(receipt.get("contractAddress")),
        "type": quantity(receipt.get("type")),
    }


def log_rows(receipt: Obj) -> list[Row]:
    """The receipt's logs (block and transaction position taken from the receipt)."""
    block, index = quantity(receipt["blockNumber"]), quantity(receipt["transactionIndex"])
    tx_hash = hexdata(receipt["transactionHash"])
    return [
        {
            "block_number": block,
            "transaction_index": index,
            "log_index": quantity(log["logIndex"]),
            "transaction_hash": tx_hash,
            "address": hexdata(log["address"]),
            "topics": [str(t).lower() for t in log["topics"]],
            "data": hexdata(log["data"]),
        }
        for log in receipt.get("logs") or ()
    ]


def mempool_row(
    tx: Obj | None, *, tx_hash: str, first_seen_ms: int, source: str, raw: str | None
) -> Row:
    """A pending transaction seen at ``first_seen_ms``; ``tx`` None when only its hash is known."""
    fields = _tx_fields(tx) if tx is not None else {"hash": hexdata(tx_hash)}
    return {**fields, "first_seen_ms": first_seen_ms, "source": source, "raw": raw}


def frame(table: str, rows: Iterable[Row]) -> pl.DataFrame:
    """Rows as a DataFrame with exactly the table's schema (validated by ``conform``)."""
    return conform(table, pl.DataFrame(list(rows), schema=TABLES[table]))
