"""The V2 math against every Uniswap-V2-style swap of mainnet blocks 17173049-17173050.

Pair states are rebuilt from the logs with ``MarketState``. A pair emits its ``Sync`` just
before its ``Swap``, so the reserves before the swap are synced - in + out, and a pair's later
swap must start from the state its earlier swap left. At fee 3000 (Uniswap V2 and Sushiswap
both charge 0.30%) the amount out never exceeds ``get_amount_out`` of the amount in:

    69 swaps: 65 exact, 4 below the maximum, 0 violations (31 pre-states chained).

All 65 ordinary exact-input swaps get exactly the maximum, so every pair here charges 0.30%
(a cheaper fork would exceed the maximum, a dearer one fall visibly short). The 4 below the
maximum are the legs of two sandwiches by the MEV contract 0x6b75d8af...9a80 (transactions
0 and 2 of block 17173049, 3 and 5 of 17173050). It packs amounts into its calldata as a
short mantissa times a power of two, so it asks for the maximum rounded down: its outputs
have 32 or more trailing zero bits and fall short of the maximum by under 1e-7 of it.
The Swap event's amounts in are what the pair received (balance minus reserve), so a
fee-on-transfer token cannot make them differ from what the math sees.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from tests.conftest import mainnet_sample
from workbench.market.events import decode_log
from workbench.market.market_state import MarketState
from workbench.market.pool import UNKNOWN_TOKEN
from workbench.market.uniswap_v2 import UniswapV2Pool, V2Swap, V2Sync, get_amount_out
from workbench.market.uniswap_v3 import V3Swap

BOT = "0x6b75d8af000000e20b7a7ddf000ba900b4009a80"
ROUNDED_BITS = 32


def _rows(name: str) -> list[dict[str, Any]]:
    path = mainnet_sample() / f"{name}.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def logs() -> list[dict[str, Any]]:
    return sorted(_rows("logs"), key=lambda r: (r["block_number"], r["log_index"]))


def _trailing_zero_bits(n: int) -> int:
    return (n & -n).bit_length() - 1


def _classify(pre: UniswapV2Pool, s: V2Swap) -> str:
    """'exact', 'rounded' (below the maximum: a rounded request), 'below', 'two-sided' (both
    tokens paid in: only the fee-adjusted K can be checked) or 'violation'."""
    if (s.amount0_in > 0) == (s.amount1_in > 0):
        fee_adjusted = (pre.reserve0 + s.amount0_in - s.amount0_out) * 1000 - 3 * s.amount0_in
        fee_adjusted *= (pre.reserve1 + s.amount1_in - s.amount1_out) * 1000 - 3 * s.amount1_in
        return "two-sided" if fee_adjusted >= pre.reserve0 * pre.reserve1 * 1000**2 else "violation"
    if s.amount0_in:
        paid, got, most = (
            s.amount0_in,
            s.amount1_out,
            get_amount_out(s.amount0_in, pre.reserve0, pre.reserve1),
        )
    else:
        paid, got, most = (
            s.amount1_in,
            s.amount0_out,
            get_amount_out(s.amount1_in, pre.reserve1, pre.reserve0),
        )
    assert paid > 0
    if got == most:
        return "exact"
    if got > most:
        return "violation"
    small = (most - got) * 10**7 < most
    return "rounded" if small and _trailing_zero_bits(got) >= ROUNDED_BITS else "below"


def _as_rpc(row: dict[str, Any]) -> dict[str, Any]:
    """The log as eth_getLogs returns it (camelCase keys, hex quantities)."""
    return {
        "address": row["address"],
        "topics": row["topics"],
        "data": row["data"],
        "blockNumber": hex(row["block_number"]),
        "transactionIndex": hex(row["transaction_index"]),
        "logIndex": hex(row["log_index"]),
    }


def test_every_log_decodes(logs: list[dict[str, Any]]) -> None:
    assert all(decode_log(_as_rpc(r)) == decode_log(r) for r in logs)
    market = MarketState()
    events = market.apply_all(logs)
    kinds = Counter(type(e).__name__ for e in events)
    assert kinds == {"V2Sync": 69, "V2Swap": 69, "V3Swap": 10}
    assert market.rejected == []
    v2 = {e.address for e in events if isinstance(e, V2Sync)}
    v3 = {e.address for e in events if isinstance(e, V3Swap)}
    assert market.unknown == v2 | v3  # nothing registered: every pool is discovered
    assert all(market.state(a).tokens == (UNKNOWN_TOKEN, UNKNOWN_TOKEN) for a in v2)
    assert not any(a in market for a in v3)  # V3 logs alone cannot make a state


def test_v2_swaps_never_beat_the_formula(logs: list[dict[str, Any]]) -> None:
    market = MarketState(v2_fee=3000)
    events = market.apply_all(logs)
    to_of = {t["hash"]: t["to_address"] for t in _rows("transactions")}
    tx_of = {(r["block_number"], r["log_index"]): r["transaction_hash"] for r in logs}
    counts: Counter[str] = Counter()
    rounded_by: set[str] = set()
    chained = 0
    for i, s in enumerate(events):
        if not isinstance(s, V2Swap):
            continue
        sync = events[i - 1]
        assert isinstance(sync, V2Sync) and sync.address == s.address
        assert sync.log_index == s.log_index - 1, "a pair's Sync comes right before its Swap"
        synced = market.state_after(s.address, s.block_number, sync.log_index)
        assert isinstance(synced, UniswapV2Pool)
        assert (synced.reserve0, synced.reserve1) == (sync.reserve0, sync.reserve1)
        pre = UniswapV2Pool(
            address=s.address,
            token0=UNKNOWN_TOKEN,
            token1=UNKNOWN_TOKEN,
            reserve0=sync.reserve0 - s.amount0_in + s.amount0_out,
            reserve1=sync.reserve1 - s.amount1_in + s.amount1_out,
        )
        if market.history(s.address)[0][0] < sync.position:  # the pair swapped earlier
            assert market.state_before(s.address, s.block_number, sync.log_index) == pre
            chained += 1
        kind = _classify(pre, s)
        counts[kind] += 1
        if kind == "rounded":
            rounded_by.add(to_of[tx_of[s.position]])
    summary = (
        f"{sum(counts.values())} V2 swaps: {counts['exact']} exact, "
        f"{counts['rounded'] + counts['below'] + counts['two-sided']} below the maximum "
        f"({counts['rounded']} rounded requests), {counts['violation']} violations; "
        f"{chained} pre-states chained to the pair's previous swap"
    )
    print(summary)
    assert counts["violation"] == 0, summary
    assert dict(counts) == {"exact": 65, "rounded": 4}, summary
    assert chained == 31, summary
    assert rounded_by == {BOT}, summary
