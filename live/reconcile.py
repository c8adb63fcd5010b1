"""What a landed transaction of ours realised, exactly, from its receipt: the WETH our
Executor gained (transfers in less transfers out, wraps less unwraps — the bid is an unwrap)
less the gas our account paid. Summed over our landed transactions it equals the change of
the Executor's WETH balance plus the account's ETH balance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from workbench.execution.simulate import unwrapped_by

TRANSFER = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
DEPOSIT = "0x" + keccak(b"Deposit(address,uint256)").hex()
WITHDRAWAL = "0x" + keccak(b"Withdrawal(address,uint256)").hex()


@dataclass(frozen=True, slots=True)
class Realised:
    tx_hash: str
    status: int
    weth_delta: int  # the Executor's WETH change (profit less the bid)
    bid_paid: int  # WETH unwrapped by the Executor and paid to the coinbase
    gas_cost: int  # wei our account paid

    @property
    def net(self) -> int:
        return self.weth_delta - self.gas_cost


def _topic_address(topic: str) -> int:
    return int(topic, 16)


def weth_delta(logs: Iterable[Mapping[str, Any]], weth: str, holder: str) -> int:
    """The change of ``holder``'s WETH balance that ``logs`` record."""
    who = int(holder, 16)
    delta = 0
    for log in logs:
        if str(log["address"]).lower() != weth.lower() or not log["topics"]:
            continue
        topics = [str(t).lower() for t in log["topics"]]
        value = int(log["data"], 16)
        if topics[0] == TRANSFER and len(topics) == 3:
            delta += value * (
                (_topic_address(topics[2]) == who) - (_topic_address(topics[1]) == who)
            )
        elif topics[0] == DEPOSIT and _topic_address(topics[1]) == who:
            delta += value
        elif topics[0] == WITHDRAWAL and _topic_address(topics[1]) == who:
            delta -= value
    return delta


def realised(
    receipt: Mapping[str, Any], logs: Iterable[Mapping[str, Any]], weth: str, executor: str
) -> Realised:
    """Our landed transaction's result; ``receipt`` as a dataset row (snake_case, ints) and
    ``logs`` its log rows."""
    logs = list(logs)
    gas_cost = int(receipt["gas_used"]) * int(receipt["effective_gas_price"])
    return Realised(
        tx_hash=str(receipt["transaction_hash"]),
        status=int(receipt["status"]),
        weth_delta=weth_delta(logs, weth, executor),
        bid_paid=unwrapped_by(logs, weth, executor),
        gas_cost=gas_cost,
    )
