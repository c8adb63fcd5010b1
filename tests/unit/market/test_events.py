"""decode_log: the six Uniswap pool events from JSON-RPC logs and ethereum-etl rows."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from hypothesis import given
from hypothesis import strategies as st

from workbench.market.events import LogDecodeError, decode_log
from workbench.market.uniswap_v2 import SWAP_V2, SYNC_V2, V2Swap, V2Sync
from workbench.market.uniswap_v3 import (
    BURN_V3,
    INITIALIZE_V3,
    MINT_V3,
    SWAP_V3,
    V3Burn,
    V3Initialize,
    V3Mint,
    V3Swap,
)
from workbench.types import address

POOL = "0x498498fa386ef2860e7abf8c60254580c8c41ec5"
ALICE = "0x00000000000000000000000000000000000a11ce"
BOB = "0x0000000000000000000000000000000000000b0b"
AT = {"block_number": 7, "transaction_index": 2, "log_index": 11}


def _word(value: int) -> str:
    return f"0x{value % 2**256:064x}"


def rpc_log(topics: list[str], types: list[str], values: list[Any], **at: int) -> dict[str, Any]:
    """A log as eth_getLogs returns it."""
    where = AT | at
    return {
        "address": POOL,
        "topics": topics,
        "data": "0x" + encode(types, values).hex(),
        "blockNumber": hex(where["block_number"]),
        "transactionIndex": hex(where["transaction_index"]),
        "logIndex": hex(where["log_index"]),
        "removed": False,
    }


def test_v2_sync_and_swap() -> None:
    sync = decode_log(rpc_log([SYNC_V2], ["uint112", "uint112"], [5, 2**112 - 1]))
    assert sync == V2Sync(address=address(POOL), **AT, reserve0=5, reserve1=2**112 - 1)
    swap = decode_log(
        rpc_log(
            [SWAP_V2, _word(int(ALICE, 16)), _word(int(BOB, 16))],
            ["uint256"] * 4,
            [1, 0, 0, 2**255],
        )
    )
    assert swap == V2Swap(
        address=address(POOL),
        **AT,
        sender=address(ALICE),
        to=address(BOB),
        amount0_in=1,
        amount1_in=0,
        amount0_out=0,
        amount1_out=2**255,
    )
    assert swap.position == (7, 11)


@given(
    lower=st.integers(-887272, 887271),
    width=st.integers(1, 2000),
    amount=st.integers(0, 2**128 - 1),
    tick=st.integers(-887272, 887272),
)
def test_v3_events_with_signed_ticks(lower: int, width: int, amount: int, tick: int) -> None:
    upper = lower + width
    init = decode_log(rpc_log([INITIALIZE_V3], ["uint160", "int24"], [2**96, tick]))
    assert init == V3Initialize(address=address(POOL), **AT, sqrt_price_x96=2**96, tick=tick)
    ticks = [_word(lower), _word(upper)]
    mint = decode_log(
        rpc_log(
            [MINT_V3, _word(int(BOB, 16)), *ticks],
            ["address", "uint128", "uint256", "uint256"],
            [ALICE, amount, 3, 4],
        )
    )
    assert mint == V3Mint(
        address=address(POOL),
        **AT,
        sender=address(ALICE),
        owner=address(BOB),
        tick_lower=lower,
        tick_upper=upper,
        amount=amount,
        amount0=3,
        amount1=4,
    )
    swap = decode_log(
        rpc_log(
            [SWAP_V3, _word(int(ALICE, 16)), _word(int(BOB, 16))],
            ["int256", "int256", "uint160", "uint128", "int24"],
            [-amount, amount, 2**160 - 1, amount, tick],
        )
    )
    assert swap == V3Swap(
        address=address(POOL),
        **AT,
        sender=address(ALICE),
        recipient=address(BOB),
        amount0=-amount,
        amount1=amount,
        sqrt_price_x96=2**160 - 1,
        liquidity=amount,
        tick=tick,
    )
    burn = decode_log(
        rpc_log(
            [BURN_V3, _word(int(BOB, 16)), *ticks],
            ["uint128", "uint256", "uint256"],
            [amount, 5, 6],
        )
    )
    assert burn == V3Burn(
        address=address(POOL),
        **AT,
        owner=address(BOB),
        tick_lower=lower,
        tick_upper=upper,
        amount=amount,
        amount0=5,
        amount1=6,
    )


# A real V3 Swap (USDC/WETH 0.05%, mainnet block 17173049) as ethereum-etl exports it;
# the expected values were decoded independently with eth_abi.
MAINNET_V3_SWAP = {
    "address": "0x498498fa386ef2860e7abf8c60254580c8c41ec5",
    "topics": [
        "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67",
        "0x00000000000000000000000068b3465833fb72a70ecdf485e0e4c7bd8665fc45",
        "0x000000000000000000000000c89c92526f5b49821bdd137d375a4032a317212f",
    ],
    "data": "0xffffffffffffffffffffffffffffffffffffffffffff40c7a426a316ae550dfb"
    "0000000000000000000000000000000000000000000000000853a0d2313c0000"
    "00000000000000000000000000000000000000000035320bb1d33bafa052974e"
    "0000000000000000000000000000000000000000000060adaf174f9df3180bcb"
    "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdd401",
    "block_number": 17173049,
    "transaction_index": 41,
    "log_index": 93,
}


def test_real_ethereum_etl_row() -> None:
    swap = decode_log(MAINNET_V3_SWAP)
    assert swap == V3Swap(
        address=address(MAINNET_V3_SWAP["address"]),  # type: ignore[arg-type]
        block_number=17173049,
        transaction_index=41,
        log_index=93,
        sender=address("0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45"),
        recipient=address("0xc89c92526f5b49821bdd137d375a4032a317212f"),
        amount0=-903011634319514535653893,
        amount1=600000000000000000,
        sqrt_price_x96=64309402491554629619455822,
        liquidity=456551085720658601577419,
        tick=-142335,
    )
    # The same row with ethereum-etl's CSV shape: topics comma-joined, quantities as text.
    csv_row = MAINNET_V3_SWAP | {
        "topics": ",".join(MAINNET_V3_SWAP["topics"]),  # type: ignore[arg-type]
        "block_number": "17173049",
        "transaction_index": "41",
        "log_index": "93",
    }
    assert decode_log(csv_row) == swap
    as_bytes = MAINNET_V3_SWAP | {"data": bytes.fromhex(str(MAINNET_V3_SWAP["data"])[2:])}
    assert decode_log(as_bytes) == swap


def test_other_logs_are_not_pool_events() -> None:
    transfer = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    assert decode_log(rpc_log([transfer, _word(1), _word(2)], ["uint256"], [3])) is None
    assert decode_log(rpc_log([], ["uint256"], [3])) is None  # anonymous event


def test_look_alike_layout_is_an_error_with_its_position() -> None:
    # Swap's signature with nothing indexed: same topic0, different layout.
    log = rpc_log(
        [SWAP_V2],
        ["address", "uint256", "uint256", "uint256", "uint256", "address"],
        [ALICE, 1, 0, 0, 1, BOB],
    )
    with pytest.raises(LogDecodeError, match="look-alike") as err:
        decode_log(log)
    assert err.value.position == (7, 11)


def test_pending_log_without_position_is_an_error() -> None:
    log = rpc_log([SYNC_V2], ["uint112", "uint112"], [1, 2]) | {"blockNumber": None}
    with pytest.raises(LogDecodeError, match="blockNumber"):
        decode_log(log)
