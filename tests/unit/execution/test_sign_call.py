"""Our EIP-1559 signing against eth-account's (the same bytes, the same hash, the signer
recovered from them), and our Executor calldata against the ABI encoder's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.chain.abi import encode_call
from workbench.errors import ConfigError
from workbench.execution.bundle import ZERO, ExecutionConfig, executor_calldata, sign_call

KEYS = [Account.from_key(bytes([i + 1]) * 32) for i in range(4)]
UINT64 = st.integers(0, 2**64 - 1)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(KEYS),
    chain_id=st.sampled_from([1, 31337, 2**40]),
    to=st.binary(min_size=20, max_size=20),
    data=st.binary(max_size=300),
    nonce=UINT64,
    gas_limit=UINT64,
    base_fee=st.integers(0, 2**80),
    priority_fee=st.integers(0, 2**70),
    multiple=st.integers(1, 4),
)
def test_signs_exactly_as_eth_account(
    key: LocalAccount,
    chain_id: int,
    to: bytes,
    data: bytes,
    nonce: int,
    gas_limit: int,
    base_fee: int,
    priority_fee: int,
    multiple: int,
) -> None:
    cfg = ExecutionConfig(
        chain_id=chain_id,
        executor="0x" + "11" * 20,
        v3_factories={},
        max_fee_base_multiple=multiple,
    )
    target = to_checksum_address(to)
    ours = sign_call(
        key,
        cfg,
        target,
        data,
        nonce=nonce,
        gas_limit=gas_limit,
        base_fee=base_fee,
        priority_fee=priority_fee,
    )
    theirs = key.sign_transaction(
        {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce,
            "to": target,
            "value": 0,
            "data": data,
            "gas": gas_limit,
            "maxPriorityFeePerGas": priority_fee,
            "maxFeePerGas": multiple * base_fee + priority_fee,
        }
    )
    assert ours.raw == theirs.raw_transaction.to_0x_hex()
    assert ours.hash == theirs.hash.to_0x_hex()
    assert (ours.sender, ours.nonce, ours.gas_limit) == (key.address, nonce, gas_limit)
    raw = bytes.fromhex(ours.raw[2:])
    assert Account.recover_transaction(raw) == key.address


ADDRESS = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b))


@settings(max_examples=200, deadline=None)
@given(
    base=ADDRESS,
    amount_in=st.integers(0, 2**256 - 1),
    min_profit=st.integers(0, 2**256 - 1),
    bid_bps=st.integers(0, 2**16 - 1),
    steps=st.lists(
        st.tuples(
            st.integers(0, 255),
            ADDRESS,
            ADDRESS,
            ADDRESS,
            st.integers(0, 2**24 - 1),
            ADDRESS,
            st.integers(0, 2**160 - 1),
            st.integers(0, 2**256 - 1),
        ),
        max_size=4,
    ),
)
def test_executor_calldata_is_the_abi_encoding(
    base: str, amount_in: int, min_profit: int, bid_bps: int, steps: list[tuple[Any, ...]]
) -> None:
    intent = SimpleNamespace(
        cycle=SimpleNamespace(base=base),
        amount_in=amount_in,
        min_profit=min_profit,
        bid_bps=bid_bps,
    )
    with patch("workbench.execution.bundle.executor_steps", return_value=steps):
        ours = executor_calldata(intent, {})  # type: ignore[arg-type]
    assert ours == encode_call("Executor", "execute", [base, amount_in, min_profit, bid_bps, steps])


def test_executor_calldata_rejects_what_the_abi_cannot_encode() -> None:
    step = (0, ZERO, ZERO, ZERO, 2**24, ZERO, 0, 0)  # a fee beyond uint24
    intent = SimpleNamespace(cycle=SimpleNamespace(base=ZERO), amount_in=1, min_profit=0, bid_bps=0)
    with (
        patch("workbench.execution.bundle.executor_steps", return_value=[step]),
        pytest.raises(ConfigError, match="uint24"),
    ):
        executor_calldata(intent, {})  # type: ignore[arg-type]
    intent.cycle.base = "0x1234"
    with (
        patch("workbench.execution.bundle.executor_steps", return_value=[]),
        pytest.raises(ConfigError, match="not an address"),
    ):
        executor_calldata(intent, {})  # type: ignore[arg-type]
