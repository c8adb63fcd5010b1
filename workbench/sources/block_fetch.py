"""Reads a run of blocks with their receipts, logs and raw transactions in one or two batched
rounds.

Round one asks for every block (full transactions) and its receipts (``eth_getBlockReceipts``).
Raw transactions are re-encoded from their signed fields and kept when they hash to the
transaction hash (byte-identical to the node's, at no cost); only those that do not (a type this
workbench cannot encode, e.g. an OP-stack deposit) are asked for with
``eth_getRawTransactionByHash`` in round two, with every receipt when the node lacks
``eth_getBlockReceipts``. A method the node does not offer is dropped for the rest of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import polars as pl

from workbench.rpc import Call, RpcClient, RpcError
from workbench.sources.raw_tx import verified_raw
from workbench.sources.rpc_convert import (
    block_row,
    frame,
    hexdata,
    log_rows,
    quantity,
    receipt_row,
    transaction_row,
)

Tables = dict[str, pl.DataFrame]


class ChainChanged(Exception):
    """The blocks and receipts read do not fit together (a reorg while reading): read again."""


def unsupported(err: RpcError) -> bool:
    """Whether the error says the node does not offer the method (rather than failing it)."""
    text = err.message.lower()
    return (
        err.code in (-32601, -32600)
        or "not supported" in text
        or "unsupported" in text
        or ("method" in text and ("not found" in text or "does not exist" in text))
    )


class BlockFetcher:
    """Fetches blocks ``first..last`` as the four block tables; remembers what the node lacks.

    ``batch_size`` bounds the calls sent in one HTTP request (public nodes cap batches).
    """

    def __init__(self, rpc: RpcClient, *, batch_size: int = 200) -> None:
        self.rpc = rpc
        self.batch_size = batch_size
        self.block_receipts = True
        self.raw_by_hash = True
        self.raw_from_node = 0  # transactions whose raw bytes only the node could give

    def _batch(self, calls: Sequence[Call]) -> list[Any]:
        out: list[Any] = []
        for i in range(0, len(calls), self.batch_size):
            out += self.rpc.batch(calls[i : i + self.batch_size])
        return out

    def fetch(self, first: int, last: int) -> Tables:
        """Raises ``ChainChanged`` when the answers are inconsistent, ``RpcError`` for a failed call."""
        numbers = range(first, last + 1)
        n = len(numbers)
        calls: list[Call] = [("eth_getBlockByNumber", [hex(b), True]) for b in numbers]
        if self.block_receipts:
            calls += [("eth_getBlockReceipts", [hex(b)]) for b in numbers]
        answers = self._batch(calls)
        blocks = [
            _block(answer, number) for answer, number in zip(answers[:n], numbers, strict=True)
        ]
        per_block = self._block_receipts(answers[n:]) if self.block_receipts else None

        txs = [tx for block in blocks for tx in block["transactions"]]
        raws = [verified_raw(tx) for tx in txs]
        unknown = [i for i, raw in enumerate(raws) if raw is None] if self.raw_by_hash else []
        calls = [("eth_getRawTransactionByHash", [txs[i]["hash"]]) for i in unknown]
        if per_block is None:
            calls += [("eth_getTransactionReceipt", [tx["hash"]]) for tx in txs]
        answers = self._batch(calls)
        for i, raw in zip(unknown, self._raws(answers[: len(unknown)]), strict=True):
            raws[i] = verified_raw(txs[i], raw)
            self.raw_from_node += raws[i] is not None
        if per_block is None:
            receipts = [_required(r, "eth_getTransactionReceipt") for r in answers[len(unknown) :]]
        else:
            receipts = [r for block_receipts in per_block for r in block_receipts]
        _check(blocks, receipts)
        return {
            "blocks": frame("blocks", map(block_row, blocks)),
            "transactions": frame(
                "transactions",
                (transaction_row(tx, raw) for tx, raw in zip(txs, raws, strict=True)),
            ),
            "receipts": frame("receipts", map(receipt_row, receipts)),
            "logs": frame("logs", (row for r in receipts for row in log_rows(r))),
        }

    def _block_receipts(self, answers: list[Any]) -> list[list[Any]] | None:
        """Receipts per block, or None when the node lacks ``eth_getBlockReceipts``."""
        for answer in answers:
            if isinstance(answer, RpcError) and unsupported(answer):
                self.block_receipts = False
                return None
        return [_required(a, "eth_getBlockReceipts") for a in answers]

    def _raws(self, answers: list[Any]) -> list[Any]:
        """The node's raw bytes per transaction asked for (None where it gave none)."""
        if any(isinstance(a, RpcError) and unsupported(a) for a in answers):
            self.raw_by_hash = False
        return [a if isinstance(a, str) else None for a in answers]


def _required(answer: Any, method: str) -> Any:
    if isinstance(answer, RpcError):
        raise answer
    if answer is None:
        raise ChainChanged(f"{method} returned null")
    return answer


def _block(answer: Any, number: int) -> dict[str, Any]:
    if isinstance(answer, RpcError):
        raise answer
    if answer is None:
        raise ChainChanged(f"the node has no block {number}")
    if quantity(answer["number"]) != number:
        raise ChainChanged(f"asked for block {number}, got {quantity(answer['number'])}")
    if any(isinstance(tx, str) for tx in answer["transactions"]):
        raise ChainChanged(f"block {number} came with transaction hashes, not objects")
    return dict(answer)


def _check(blocks: list[dict[str, Any]], receipts: list[Any]) -> None:
    """Blocks link by parent hash, and receipts match the transactions one for one."""
    for prev, block in pairwise(blocks):
        if hexdata(block["parentHash"]) != hexdata(prev["hash"]):
            raise ChainChanged(
                f"block {quantity(block['number'])}'s parent hash is not block {quantity(prev['number'])}'s hash"
            )
    expected = [
        (hexdata(tx["hash"]), hexdata(b["hash"])) for b in blocks for tx in b["transactions"]
    ]
    got = [(hexdata(r["transactionHash"]), hexdata(r.get("blockHash"))) for r in receipts]
    if len(got) != len(expected):
        raise ChainChanged(f"{len(got)} receipts for {len(expected)} transactions")
    for (tx_hash, block_hash), (r_hash, r_block) in zip(expected, got, strict=True):
        if tx_hash != r_hash or (r_block is not None and r_block != block_hash):
            raise ChainChanged(f"the receipt of {tx_hash} is not from the block read")
