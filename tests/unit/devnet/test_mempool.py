"""The builder's order (priority fee, nonces, base fee), EIP-1559 and local signing."""

from __future__ import annotations

from eth_utils import keccak

from devnet.keys import agent_account
from devnet.mempool import Mempool, MempoolEntry, builder_order, sign
from devnet.trades import Trade
from workbench.chain.eip1559 import next_base_fee

GWEI = 10**9
NO_TRADE = Trade(hops=(), amount_in=1, min_out=1, via="router02")


def tx(
    name: str, sender: str, nonce: int, tip: int, seen: int, max_fee: int = 100 * GWEI
) -> MempoolEntry:
    return MempoolEntry(
        hash=name,
        raw=b"",
        sender=sender,
        nonce=nonce,
        to="0x" + "11" * 20,
        data=b"",
        gas=100_000,
        max_fee=max_fee,
        tip=tip * GWEI,
        first_seen_ms=seen,
        agent=sender,
        trade=NO_TRADE,
    )


def names(txs: list[MempoolEntry]) -> list[str]:
    return [t.hash for t in txs]


def test_highest_tip_first_then_first_seen() -> None:
    txs = [tx("a", "A", 0, 1, 10), tx("b", "B", 0, 3, 30), tx("c", "C", 0, 3, 20)]
    assert names(builder_order(txs, 10 * GWEI)) == ["c", "b", "a"]


def test_a_sender_nonces_stay_in_sequence() -> None:
    txs = [tx("a1", "A", 1, 9, 5), tx("a0", "A", 0, 1, 50), tx("b", "B", 0, 2, 1)]
    assert names(builder_order(txs, GWEI)) == ["b", "a0", "a1"]


def test_effective_tip_is_capped_by_the_max_fee() -> None:
    txs = [tx("capped", "A", 0, 5, 1, max_fee=12 * GWEI), tx("b", "B", 0, 3, 2)]
    assert names(builder_order(txs, 10 * GWEI)) == ["b", "capped"]


def test_a_transaction_below_the_base_fee_waits_with_its_later_nonces() -> None:
    txs = [tx("a0", "A", 0, 1, 1, max_fee=5 * GWEI), tx("a1", "A", 1, 1, 2), tx("b", "B", 0, 1, 3)]
    assert names(builder_order(txs, 10 * GWEI)) == ["b"]
    pool = Mempool()
    for t in txs:
        pool.add(t)
    assert names(pool.block_order(2, 1 * GWEI)) == ["a0", "a1"]


def test_next_base_fee_follows_eip_1559() -> None:
    assert next_base_fee(1000 * GWEI, 15, 30) == 1000 * GWEI
    assert next_base_fee(1000 * GWEI, 30, 30) == 1125 * GWEI
    assert next_base_fee(1000 * GWEI, 0, 30) == 875 * GWEI
    assert next_base_fee(7, 16, 30) == 8  # rises by at least one wei


def test_signing_is_deterministic_and_hash_is_keccak_of_raw() -> None:
    account = agent_account(1, "noise", 0)
    args = dict(
        chain_id=31337, nonce=3, to="0x" + "22" * 20, data=b"\x01", gas=50_000, max_fee=GWEI, tip=1
    )
    h1, raw1 = sign(account, **args)  # type: ignore[arg-type]
    h2, raw2 = sign(account, **args)  # type: ignore[arg-type]
    assert (h1, raw1) == (h2, raw2)
    assert h1 == "0x" + keccak(raw1).hex() and raw1[0] == 2
