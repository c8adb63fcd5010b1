"""Intents into bundles: Executor.sol calldata, then signed EIP-1559 transactions.

The searcher's key signs locally (eth-account) and is never printed or stored; a ``Bundle``
holds only signed bytes and hashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from workbench.chain.abi import encode_call
from workbench.errors import ConfigError
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.market.v3.state import UniswapV3State
from workbench.strategy.intents import ArbIntent
from workbench.types import address

KIND_V2, KIND_V3 = 0, 1
ZERO = "0x" + "00" * 20


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionConfig:
    """Where our contracts are, and how transactions are priced."""

    chain_id: int
    executor: str
    v3_factories: Mapping[str, str]  # lowercase V3 pool address -> its factory
    gas_limit_margin_pct: int = 20  # over the simulated gas use
    max_fee_base_multiple: int = 2  # maxFeePerGas = multiple * base fee + priority fee


def executor_steps(intent: ArbIntent, v3_factories: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """The Executor's Step structs for the intent's cycle (V2 fee in pips, V3 fee tier, no
    price limit, the hop's minimum output)."""
    steps: list[tuple[Any, ...]] = []
    min_outs = intent.hop_min_outs or (0,) * len(intent.cycle.hops)
    for hop, min_out in zip(intent.cycle.hops, min_outs, strict=True):
        pool = hop.pool
        if isinstance(pool, UniswapV2Pool):
            steps.append(
                (KIND_V2, pool.address, hop.token_in, hop.token_out, pool.fee, ZERO, 0, min_out)
            )
        elif isinstance(pool, UniswapV3State):
            factory = v3_factories.get(pool.address.lower())
            if factory is None:
                raise ConfigError(
                    f"no V3 factory known for pool {pool.address}; add it to v3_factories"
                )
            steps.append(
                (KIND_V3, pool.address, hop.token_in, hop.token_out, pool.fee, factory, 0, min_out)
            )
        else:
            raise ConfigError(f"Executor.sol cannot trade {type(pool).__name__} pools")
    return steps


def executor_calldata(intent: ArbIntent, v3_factories: Mapping[str, str]) -> bytes:
    base = intent.cycle.base
    args = [
        base,
        intent.amount_in,
        intent.min_profit,
        intent.bid_bps,
        executor_steps(intent, v3_factories),
    ]
    return encode_call("Executor", "execute", args)


@dataclass(frozen=True, slots=True)
class SignedTx:
    raw: str  # 0x-prefixed signed bytes
    hash: str
    sender: str
    nonce: int
    gas_limit: int


def sign_call(
    account: LocalAccount,
    cfg: ExecutionConfig,
    to: str,
    data: bytes,
    *,
    nonce: int,
    gas_limit: int,
    base_fee: int,
    priority_fee: int,
) -> SignedTx:
    """A signed EIP-1559 call from ``account`` (type 2, chain id from ``cfg``)."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": cfg.chain_id,
        "nonce": nonce,
        "to": address(to),
        "value": 0,
        "data": data,
        "gas": gas_limit,
        "maxPriorityFeePerGas": priority_fee,
        "maxFeePerGas": cfg.max_fee_base_multiple * base_fee + priority_fee,
    }
    signed = account.sign_transaction(tx)
    return SignedTx(
        raw=signed.raw_transaction.to_0x_hex(),
        hash=signed.hash.to_0x_hex(),
        sender=account.address,
        nonce=nonce,
        gas_limit=gas_limit,
    )


def gas_limit_from(gas_used: int, cfg: ExecutionConfig) -> int:
    """The gas limit to send with, from a simulation's gas use plus the margin."""
    return gas_used * (100 + cfg.gas_limit_margin_pct) // 100


@dataclass(frozen=True, slots=True)
class Bundle:
    """Transactions for one block, in order: the target's raw bytes first for a backrun."""

    block_number: int
    txs: tuple[str, ...]
    ours: tuple[str, ...]  # hashes of our transactions
    intent_key: str
