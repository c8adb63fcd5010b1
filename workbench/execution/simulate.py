"""EVM-exact simulation of a bundle on Anvil at its modelled position in the next block.

Between ``evm_snapshot`` and ``evm_revert``: the block environment is set (timestamp, base
fee, coinbase), the transactions that come before ours are sent (a backrun's target), then
ours, and one block is mined. What happened is read from the receipts and balances: the
Executor's profit-token gain plus the bid it paid is the gross profit, and the coinbase's gain
minus every transaction's priority fee is the bid. Nothing of it survives the revert.
A failed bundle is an ``Outcome``, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from workbench.chain.abi import decode_custom_error, decode_result, encode_call
from workbench.chain.anvil_control import AnvilControl
from workbench.chain.recorded_tx import Sendable, is_send, send_calls, stop_calls
from workbench.chain.transact import describe_revert, revert_data
from workbench.execution.bundle import (
    ExecutionConfig,
    SignedTx,
    executor_calldata,
    gas_limit_from,
    sign_call,
)
from workbench.rpc import RpcError, unwrap_batch
from workbench.strategy.context import BlockEnv
from workbench.strategy.intents import ArbIntent

WETH_WITHDRAWAL = "0x" + keccak(b"Withdrawal(address,uint256)").hex()
SIM_GAS_LIMIT = 3_000_000  # at most; the simulation measures the gas actually used


def unwrapped_by(logs: Sequence[Mapping[str, Any]], weth: str, holder: str | None = None) -> int:
    """WETH unwrapped in ``logs`` (WETH9 ``Withdrawal`` events), by ``holder`` if given."""
    total = 0
    for log in logs:
        topics = log["topics"]
        if (
            log["address"].lower() != weth.lower()
            or not topics
            or topics[0].lower() != WETH_WITHDRAWAL
        ):
            continue
        if holder is None or int(topics[1], 16) == int(holder, 16):
            total += int(log["data"], 16)
    return total


def sim_gas_limit(intent: ArbIntent, block: BlockEnv, gas_left: int | None = None) -> int:
    """Twice the strategy's estimate (at least 300k), within the room left in the block."""
    room = block.gas_limit if gas_left is None else gas_left
    return min(SIM_GAS_LIMIT, max(2 * intent.gas_estimate, 300_000), room)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimResult:
    status: str  # "success" | "reverted" | "error"
    gas_used: int = 0
    profit: int = 0  # gross, in the cycle's base token
    bid_paid: int = 0  # wei to the coinbase beyond priority fees
    gas_cost: int = 0  # wei: gas_used * effective gas price
    gas_limit: int = 0  # what a real bundle would send (gas used + margin)
    revert_reason: str | None = None
    tx_hash: str | None = None


class AnvilSimulator:
    """Simulates intents on an Anvil that holds the parent block's state."""

    def __init__(self, node: AnvilControl, account: LocalAccount, cfg: ExecutionConfig) -> None:
        self.node = node
        self.rpc = node.rpc
        self.account = account
        self.cfg = cfg

    def simulate(
        self,
        intent: ArbIntent,
        block: BlockEnv,
        coinbase: str,
        before: Sequence[Sendable] = (),
        gas_left: int | None = None,
        *,
        nonce: int | None = None,
    ) -> SimResult:
        """Runs ``before`` (signed txs, or recorded ones sent unsigned) then the intent's
        transaction in block ``block``; ``gas_left`` is the block's room after ``before`` (its
        gas limit by default).
        ``nonce`` is our account's transaction count on the node, when the caller knows it.

        This is on the live runner's path from a pending transaction to its backrun's
        submission, so round trips are few: the settings and reads that do not depend on each
        other go in one batch each side of the mined block, and with ``nonce`` given and
        nothing ``before``, our transaction rides in the first batch (four round trips)."""
        if gas_left is not None and gas_left < 21_000:
            return SimResult(
                status="error",
                revert_reason=f"no room left in block {block.number} after the target",
            )
        executor, base = self.cfg.executor, intent.cycle.base
        data = executor_calldata(intent, self.cfg.v3_factories)
        early = nonce is not None and not before
        # Anvil takes a batch's calls in order while each completes without waiting: the
        # base fee is set before our transaction is checked against it.
        calls: list[tuple[str, list[Any]]] = [
            ("evm_snapshot", []),
            ("anvil_setCoinbase", [coinbase]),
            ("anvil_setNextBlockBaseFeePerGas", [hex(block.base_fee)]),
            _balance_call(base, executor),
            ("eth_getBalance", [coinbase, "latest"]),
        ]
        tx = None
        if early:
            assert nonce is not None
            tx = self._sign(intent, block, gas_left, data, nonce)
            calls.append(("eth_sendRawTransaction", [tx.raw]))
        elif nonce is None:
            calls.append(("eth_getTransactionCount", [self.account.address, "latest"]))
        try:
            answers = self.rpc.batch(calls)
        except RpcError as err:
            return SimResult(status="error", revert_reason=f"{err.method}: {err.message}")
        snap = answers[0]
        if isinstance(snap, RpcError):
            return SimResult(status="error", revert_reason=f"{snap.method}: {snap.message}")
        clean = False
        try:
            _, _, token_before, coinbase_before, *last = unwrap_batch(answers[1:])
            if tx is None:
                tx = self._sign(
                    intent, block, gas_left, data, nonce if nonce is not None else int(last[0], 16)
                )
            result, clean = self._run(
                tx,
                data,
                block,
                coinbase,
                before,
                base=base,
                sent=early,
                token_before=_balance_of(token_before),
                coinbase_before=int(coinbase_before, 16),
            )
            return result
        except RpcError as err:
            return SimResult(status="error", revert_reason=f"{err.method}: {err.message}")
        finally:
            self.node.revert(snap)
            if not clean:
                self.rpc.call("anvil_dropAllTransactions")  # nothing may stay pending

    def _sign(
        self, intent: ArbIntent, block: BlockEnv, gas_left: int | None, data: bytes, nonce: int
    ) -> SignedTx:
        return sign_call(
            self.account,
            self.cfg,
            self.cfg.executor,
            data,
            nonce=nonce,
            gas_limit=sim_gas_limit(intent, block, gas_left),
            base_fee=block.base_fee,
            priority_fee=intent.priority_fee,
        )

    def _run(
        self,
        tx: SignedTx,
        data: bytes,
        block: BlockEnv,
        coinbase: str,
        before: Sequence[Sendable],
        *,
        base: str,
        sent: bool,
        token_before: int,
        coinbase_before: int,
    ) -> tuple[SimResult, bool]:
        """The simulation's result, and whether every transaction was mined (the pool is
        then empty). ``sent``: our transaction is in the node's pool already."""
        executor = self.cfg.executor
        impersonated: set[str] = set()
        calls = send_calls(before, impersonated) + (
            [] if sent else [("eth_sendRawTransaction", [tx.raw])]
        )
        try:
            answers = unwrap_batch(self.rpc.batch(calls)) if calls else []
            self.node.mine(timestamp=block.timestamp)
        finally:
            if impersonated:
                self.rpc.batch(stop_calls(impersonated))
        hashes = [a for c, a in zip(calls, answers, strict=True) if is_send(c)]
        if sent:
            hashes.append(tx.hash)
        *receipts, coinbase_after, token_after = unwrap_batch(
            self.rpc.batch(
                [
                    *(("eth_getTransactionReceipt", [h]) for h in hashes),
                    ("eth_getBalance", [coinbase, "latest"]),
                    _balance_call(base, executor),
                ]
            )
        )
        if any(r is None for r in receipts):
            return SimResult(
                status="error",
                revert_reason="a transaction was not included in the simulated block",
            ), False
        ours = receipts[-1]
        gas_used = int(ours["gasUsed"], 16)
        gas_cost = gas_used * int(ours["effectiveGasPrice"], 16)
        if int(ours["status"], 16) != 1:
            return SimResult(
                status="reverted",
                gas_used=gas_used,
                gas_cost=gas_cost,
                tx_hash=tx.hash,
                revert_reason=self._why(executor, data, block),
            ), True
        priority_fees = sum(
            int(r["gasUsed"], 16) * (int(r["effectiveGasPrice"], 16) - block.base_fee)
            for r in receipts
        )
        # Our bid is the WETH our Executor unwrapped for the coinbase; the transactions before
        # ours (a backrun's target) may pay the coinbase too, so its gain alone is not ours.
        bid = unwrapped_by(ours["logs"], base, executor)
        coinbase_gain = int(coinbase_after, 16) - coinbase_before - priority_fees
        if coinbase_gain < bid:
            return SimResult(
                status="error", revert_reason=f"coinbase gained {coinbase_gain} < our bid {bid}"
            ), True
        profit = _balance_of(token_after) - token_before + bid
        return SimResult(
            status="success",
            gas_used=gas_used,
            profit=profit,
            bid_paid=bid,
            gas_cost=gas_cost,
            gas_limit=gas_limit_from(gas_used, self.cfg),
            tx_hash=tx.hash,
        ), True

    def reverts_now(self, intent: ArbIntent) -> bool:
        """Whether the intent's transaction reverts on the node's latest state (a call; nothing
        is mined): the realised check of an opportunity one block later."""
        call = {
            "from": self.account.address,
            "to": self.cfg.executor,
            "data": "0x" + executor_calldata(intent, self.cfg.v3_factories).hex(),
            "gas": hex(SIM_GAS_LIMIT),
        }
        try:
            self.rpc.call("eth_call", [call, "latest"])
        except RpcError as err:
            if not revert_data(err) and "revert" not in err.message.lower():
                raise
            return True
        return False

    def _why(self, executor: str, data: bytes, block: BlockEnv) -> str:
        """The revert reason, from the same call on the parent state."""
        call = {
            "from": self.account.address,
            "to": executor,
            "data": "0x" + data.hex(),
            "gas": hex(SIM_GAS_LIMIT),
        }
        try:
            self.rpc.call("eth_call", [call, hex(block.number - 1)])
        except RpcError as err:
            data = revert_data(err)
            return decode_custom_error("Executor", data) or describe_revert(data)
        return "reverted in the block but not alone on the parent state"


def _balance_call(token: str, who: str) -> tuple[str, list[Any]]:
    data = "0x" + encode_call("TestERC20", "balanceOf", [who]).hex()
    return ("eth_call", [{"to": token, "data": data}, "latest"])


def _balance_of(reply: str) -> int:
    return int(decode_result("TestERC20", "balanceOf", reply)[0])
