"""What winning searchers paid for cyclic arbitrage, as a share of what it was worth, from a
dataset alone (its logs and receipts; no RPC, no simulation).

A transaction is a cyclic arbitrage when its receipt succeeded, its logs hold at least two
Uniswap V2/V3 swaps, and the ERC-20 ``Transfer(address,address,uint256)`` logs show
``contract`` (the transaction's ``to``, which holds the traded tokens) sending WETH and ending
with a strictly positive net WETH inflow and no net outflow of any other token it touched.
Sending WETH is what makes it a cycle: a router selling tokens for ETH (the seller's tokens
go straight to the pair; the router only receives WETH and unwraps it) would otherwise look
like an arbitrage bidding its whole value, five times in mainnet blocks 17173049-50. Then:

- ``value``: that net WETH inflow, the opportunity as its winner realised it, gross of what
  it paid (a WETH9 ``Withdrawal`` is not a ``Transfer``, so WETH unwrapped for a bid is not
  subtracted; for our Executor, ``value`` is exactly the ``profit`` it bids a share of);
- ``priority_paid``: (effective gas price - base fee) * gas used;
- ``coinbase_bid``: the WETH ``contract`` unwrapped in the transaction (WETH9 ``Withdrawal``),
  how Executor-style bots pay the coinbase;
- ``paid`` = ``priority_paid`` + ``coinbase_bid``, ``share_bps`` = paid * 10000 // value.

A direct ETH transfer to the coinbase (from ETH the contract already held) emits no event, so
``coinbase_bid``, ``paid`` and ``share_bps`` are lower bounds, as in ``competition``. Bots
whose funds sit elsewhere than the called contract, or that profit in another token than WETH,
are not found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from workbench.execution.simulate import unwrapped_by
from workbench.market.events import LogDecodeError, decode_log
from workbench.market.uniswap_v2 import V2Swap
from workbench.market.uniswap_v3 import V3Swap
from workbench.sources.block_view import load_blocks
from workbench.sources.dataset import Dataset

TRANSFER = "0x" + keccak(b"Transfer(address,address,uint256)").hex()


@dataclass(frozen=True, slots=True)
class Payment:
    block: int
    tx_hash: str
    searcher: str  # tx sender (lowercase)
    contract: str  # tx.to, the holder of the traded WETH (lowercase)
    value: int  # wei: net WETH the swaps gained for `contract`, before its bid and gas
    priority_paid: int  # (effective gas price - base fee) * gas used
    coinbase_bid: int  # WETH unwrapped by `contract` in the tx
    gas_used: int
    parent_fullness_bps: int  # parent gas_used * 10000 // gas_limit (0: parent not held)

    @property
    def paid(self) -> int:
        return self.priority_paid + self.coinbase_bid

    @property
    def share_bps(self) -> int:
        return self.paid * 10_000 // self.value


def net_flows(logs: Sequence[Mapping[str, Any]], holder: str) -> tuple[dict[str, int], set[str]]:
    """Token (lowercase) -> what ``holder`` received minus what it sent, and the tokens it
    sent, from ERC-20 ``Transfer`` logs (ERC-721 ones, with an indexed token id, are skipped)."""
    holder = holder.lower()
    flows: dict[str, int] = defaultdict(int)
    sent = set()
    for log in logs:
        topics, data = log["topics"], log["data"]
        if len(topics) != 3 or topics[0].lower() != TRANSFER or len(data) != 66:
            continue
        token, amount = log["address"].lower(), int(data, 16)
        if "0x" + topics[1][-40:].lower() == holder:
            flows[token] -= amount
            sent.add(token)
        if "0x" + topics[2][-40:].lower() == holder:
            flows[token] += amount
    return dict(flows), sent


def swap_count(logs: Sequence[Mapping[str, Any]]) -> int:
    """V2/V3 swaps in ``logs`` (look-alike events are skipped)."""
    n = 0
    for log in logs:
        try:
            n += isinstance(decode_log(log), V2Swap | V3Swap)
        except LogDecodeError:
            continue
    return n


def cyclic_gain(logs: Sequence[Mapping[str, Any]], holder: str, weth: str) -> int | None:
    """The net WETH inflow of ``holder`` if ``logs`` are a cyclic arbitrage's, else ``None``."""
    if swap_count(logs) < 2:
        return None
    weth = weth.lower()
    flows, sent = net_flows(logs, holder)
    gain = flows.pop(weth, 0)
    if gain <= 0 or weth not in sent or any(v < 0 for v in flows.values()):
        return None
    return gain


def searcher_payments(dataset: Dataset, first: int, last: int, weth: str) -> list[Payment]:
    """Every successful cyclic arbitrage in blocks ``first..last``, in block order."""
    headers = dataset.read("blocks", (first - 1, last))
    fullness = {
        n: used * 10_000 // limit if limit else 0
        for n, used, limit in zip(
            headers["number"], headers["gas_used"], headers["gas_limit"], strict=True
        )
    }
    out = []
    for block in load_blocks(dataset, first, last):
        for tx in block.transactions:
            receipt = block.receipts.get(tx["hash"])
            if receipt is None or receipt["status"] != 1 or not tx["to"]:
                continue
            logs = block.logs_of(tx["hash"])
            contract = tx["to"].lower()
            value = cyclic_gain(logs, contract, weth)
            if value is None:
                continue
            price = int(receipt["effective_gas_price"] or tx["gas_price"])
            gas_used = int(receipt["gas_used"])
            out.append(
                Payment(
                    block=block.number,
                    tx_hash=tx["hash"],
                    searcher=tx["from"].lower(),
                    contract=contract,
                    value=value,
                    priority_paid=(price - block.base_fee) * gas_used,
                    coinbase_bid=unwrapped_by(logs, weth, contract),
                    gas_used=gas_used,
                    parent_fullness_bps=fullness.get(block.number - 1, 0),
                )
            )
    return out
