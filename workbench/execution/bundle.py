"""Intents into bundles: Executor.sol calldata, then signed EIP-1559 transactions.

The searcher's key signs locally and is never printed or stored; only signed bytes and
hashes leave this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from workbench.chain.abi import selector
from workbench.errors import ConfigError
from workbench.market.venue import Step, venue_of
from workbench.rlp import rlp_encode
from workbench.strategy.intents import ArbIntent
from workbench.types import address

ZERO = "0x" + "00" * 20
"""The zero address (a Step field that a hop does not use)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionConfig:
    """Where our contracts are, and how transactions are priced."""

    chain_id: int
    executor: str
    v3_factories: Mapping[str, str]  # lowercase V3 pool address -> its factory
    gas_limit_margin_pct: int = 20  # over the simulated gas use
    max_fee_base_multiple: int = 2  # maxFeePerGas = multiple * base fee + priority fee


def max_fee_per_gas(cfg: ExecutionConfig, base_fee: int, priority_fee: int) -> int:
    """The ``maxFeePerGas`` our transactions are signed with: what the risk manager's worst
    case must assume too (one rule for both)."""
    return cfg.max_fee_base_multiple * base_fee + priority_fee


def executor_steps(intent: ArbIntent, v3_factories: Mapping[str, str]) -> list[Step]:
    """The Executor's Step structs for the intent's cycle, each encoded by its pool's venue
    (V2: fee in pips; V3: fee tier and factory; no price limit; the hop's minimum output)."""
    steps: list[Step] = []
    min_outs = intent.hop_min_outs or (0,) * len(intent.cycle.hops)
    for hop, min_out in zip(intent.cycle.hops, min_outs, strict=True):
        pool = hop.pool
        owner = venue_of(pool)
        if owner is None or owner.hop is None:
            raise ConfigError(f"Executor.sol cannot trade {type(pool).__name__} pools")
        steps.append(owner.hop.step(pool, hop.token_in, hop.token_out, min_out, v3_factories))
    return steps


def executor_calldata(intent: ArbIntent, v3_factories: Mapping[str, str]) -> bytes:
    """``Executor.execute(profitToken, amountIn, minProfit, bidBps, steps)``, encoded here (the
    same bytes as the ABI encoder, a tenth of its time: this is on the live runner's path from
    a pending transaction to its bundle). Every value is range-checked as the ABI requires."""
    steps = executor_steps(intent, v3_factories)
    words = [
        _address_word(intent.cycle.base),
        _uint_word(intent.amount_in, 256),
        _uint_word(intent.min_profit, 256),
        _uint_word(intent.bid_bps, 16),
        _uint_word(5 * 32, 256),  # where the steps array starts
        _uint_word(len(steps), 256),
    ]
    for kind, pool, token_in, token_out, fee, factory, price_limit, min_out in steps:
        words += [
            _uint_word(kind, 8),
            _address_word(pool),
            _address_word(token_in),
            _address_word(token_out),
            _uint_word(fee, 24),
            _address_word(factory),
            _uint_word(price_limit, 160),
            _uint_word(min_out, 256),
        ]
    return selector("Executor", "execute") + b"".join(words)


def _uint_word(value: int, bits: int) -> bytes:
    if not 0 <= value < 1 << bits:
        raise ConfigError(f"{value} does not fit a uint{bits}")
    return value.to_bytes(32, "big")


def _address_word(value: str) -> bytes:
    hex_part = value[2:] if value[:2] in ("0x", "0X") else ""
    try:
        raw = bytes.fromhex(hex_part)
    except ValueError:
        raw = b""
    if len(raw) != 20:
        raise ConfigError(f"not an address: {value!r}")
    return b"\x00" * 12 + raw


TYPE_1559 = b"\x02"


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
    """A signed EIP-1559 call from ``account`` (type 2, chain id from ``cfg``, no access list).

    Encoded and signed here (RLP, then libsecp256k1's deterministic low-s signature: the same
    bytes eth-account produces, a tenth of its time), as this is on the live runner's path
    from a pending transaction to its bundle."""
    max_fee = max_fee_per_gas(cfg, base_fee, priority_fee)
    fields: list[Any] = [
        cfg.chain_id,
        nonce,
        priority_fee,
        max_fee,
        gas_limit,
        bytes.fromhex(address(to)[2:]),
        0,
        data,
        [],
    ]
    digest = keccak(TYPE_1559 + rlp_encode(fields))
    signature = coincurve.PrivateKey(account.key).sign_recoverable(digest, hasher=None)
    r, s, y_parity = signature[:32], signature[32:64], signature[64]
    raw = TYPE_1559 + rlp_encode([*fields, y_parity, int.from_bytes(r), int.from_bytes(s)])
    return SignedTx(
        raw="0x" + raw.hex(),
        hash="0x" + keccak(raw).hex(),
        sender=account.address,
        nonce=nonce,
        gas_limit=gas_limit,
    )


def gas_limit_from(gas_used: int, cfg: ExecutionConfig) -> int:
    """The gas limit to send with, from a simulation's gas use plus the margin."""
    return gas_used * (100 + cfg.gas_limit_margin_pct) // 100
