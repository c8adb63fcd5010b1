"""Searcher payments from a dataset alone: the devnet's two arbitrage bots are found with their
Executor's bid to the wei, traders are not; hand-made logs for the edge cases; the real
mainnet sample runs through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from eth_utils import keccak

from devnet import ensure_default_dataset
from devnet.config import DEFAULT_BOTS
from devnet.rebuild import load_info
from tests import readme_claims
from tests.conftest import mainnet_sample
from workbench.chain.market_spec import DeployedMarket
from workbench.execution.simulate import WETH_WITHDRAWAL
from workbench.market.uniswap_v2 import SWAP_V2
from workbench.market.uniswap_v3 import SWAP_V3
from workbench.scoring.payments import TRANSFER, Payment, cyclic_gain, searcher_payments, swap_count
from workbench.sources.dataset import Dataset
from workbench.sources.importers import import_ethereum_etl

# ---- the devnet default: its two bots ---------------------------------------------------


@pytest.fixture(scope="module")
def devnet() -> tuple[Dataset, str, list[Payment]]:
    root = ensure_default_dataset()
    ds = Dataset.open(root)
    weth = DeployedMarket.load(root / "market.json").weth
    held = ds.block_range
    assert held is not None
    return ds, weth, searcher_payments(ds, held[0], held[1], weth)


def test_devnet_bots_found_with_their_executor_bid(
    devnet: tuple[Dataset, str, list[Payment]],
) -> None:
    ds, _, payments = devnet
    info = load_info(ds.root)
    params = {b.name: b for b in DEFAULT_BOTS}
    bots = {
        a["address"].lower(): (a["executor"].lower(), params[a["name"]])
        for a in info["agents"]
        if a["role"] == "bot"
    }
    assert len(bots) == 2
    txs = ds.read("transactions").join(
        ds.read("receipts"), left_on="hash", right_on="transaction_hash"
    )
    landed = txs.filter(pl.col("from").is_in(list(bots)) & (pl.col("status") == 1))
    # every successful bot transaction, and nothing else
    assert {p.tx_hash for p in payments} == set(landed["hash"])
    blocks = {b["number"]: b for b in ds.read("blocks").to_dicts()}
    receipts = {r["hash"]: r for r in landed.to_dicts()}
    for p in payments:
        executor, bot = bots[p.searcher]
        assert p.contract == executor and p.value > 0
        # Executor.sol: profit = WETH balance growth before the bid (= the Transfers' net, the
        # Withdrawal is no Transfer), bid = profit * bidBps / 10_000, unwrapped and sent.
        assert p.coinbase_bid == p.value * bot.bid_bps // 10_000
        r, base_fee = receipts[p.tx_hash], int(blocks[p.block]["base_fee_per_gas"])
        assert p.gas_used == r["gas_used"]
        assert p.priority_paid == (int(r["effective_gas_price"]) - base_fee) * r["gas_used"]
        assert p.priority_paid == bot.tip_mwei * 10**6 * p.gas_used  # its fixed priority fee
        parent = blocks.get(p.block - 1)
        assert p.parent_fullness_bps == (
            parent["gas_used"] * 10_000 // parent["gas_limit"] if parent else 0
        )
        assert p.paid == p.coinbase_bid + p.priority_paid
        assert bot.bid_bps <= p.share_bps < bot.bid_bps + 1_000
    assert {p.searcher for p in payments} == set(bots)
    said = readme_claims.claim(r"it finds both bots, ([\d,]+) payments")  # the README
    assert len(payments) == readme_claims.number(said[1])


def test_devnet_trader_swaps_are_not_reported(devnet: tuple[Dataset, str, list[Payment]]) -> None:
    ds, weth, payments = devnet
    info = load_info(ds.root)
    traders = [a["address"].lower() for a in info["agents"] if a["role"] != "bot"]
    logs = ds.read("logs")
    multi = 0
    for tx in ds.read("transactions").filter(pl.col("from").is_in(traders)).to_dicts():
        tx_logs = logs.filter(pl.col("transaction_hash") == tx["hash"]).to_dicts()
        if swap_count(tx_logs) >= 2:  # multi-hop routes: swaps, but no cycle
            multi += 1
            assert cyclic_gain(tx_logs, tx["to"], weth) is None, tx["hash"]
    assert multi > 0  # the check above is not vacuous
    assert not {p.searcher for p in payments} & set(traders)


# ---- hand-made logs ----------------------------------------------------------------------

WETH = "0x" + "ee" * 20
TKA = "0x" + "aa" * 20
BOT = "0x" + "b0" * 20
EXECUTOR = "0x" + "e0" * 20
ROUTER = "0x" + "70" * 20
POOL1, POOL2 = "0x" + "01" * 20, "0x" + "02" * 20
BASE_FEE, TIP = 10 * 10**9, 2 * 10**9


def _word(n: int) -> str:
    return f"{n % (1 << 256):064x}"


def _topic(addr: str) -> str:
    return "0x" + addr.removeprefix("0x").rjust(64, "0")


def _transfer(token: str, src: str, dst: str, amount: int) -> dict[str, Any]:
    return {
        "address": token,
        "topics": [TRANSFER, _topic(src), _topic(dst)],
        "data": "0x" + _word(amount),
    }


def _v2_swap(pool: str, to: str) -> dict[str, Any]:
    return {
        "address": pool,
        "topics": [SWAP_V2, _topic(EXECUTOR), _topic(to)],
        "data": "0x" + _word(1) + _word(0) * 2 + _word(1),
    }


def _v3_swap(pool: str) -> dict[str, Any]:
    words = (5, -4, 2**96, 10**18, 0)
    return {
        "address": pool,
        "topics": [SWAP_V3, _topic(EXECUTOR), _topic(EXECUTOR)],
        "data": "0x" + "".join(map(_word, words)),
    }


def _withdrawal(holder: str, amount: int) -> dict[str, Any]:
    return {
        "address": WETH,
        "topics": [WETH_WITHDRAWAL, _topic(holder)],
        "data": "0x" + _word(amount),
    }


def _cycle(weth_in: int, *, tka_leak: int = 0, bid: int = 0) -> list[dict[str, Any]]:
    """WETH -> pool1 -> TKA -> pool2 -> WETH, the TKA sent pair to pair (Executor style)."""
    logs = [
        _transfer(WETH, EXECUTOR, POOL1, 100),
        _transfer(TKA, POOL1, POOL2, 200),
        _v2_swap(POOL1, POOL2),
        _transfer(WETH, POOL2, EXECUTOR, weth_in),
        _v2_swap(POOL2, EXECUTOR),
    ]
    if tka_leak:
        logs.append(_transfer(TKA, EXECUTOR, "0x" + "99" * 20, tka_leak))
    if bid:
        logs.append(_withdrawal(EXECUTOR, bid))
    return logs


CASES: dict[str, tuple[str, int, list[dict[str, Any]]]] = {
    # name: (to, receipt status, logs)
    "arb": (EXECUTOR, 1, _cycle(130, bid=15)),
    "loss": (EXECUTOR, 1, _cycle(90)),
    "tka_outflow": (EXECUTOR, 1, _cycle(130, tka_leak=5)),
    "reverted": (EXECUTOR, 0, _cycle(130, bid=15)),  # logs kept only to test the status check
    "one_swap": (EXECUTOR, 1, [*_cycle(130)[:3], _transfer(WETH, POOL2, EXECUTOR, 130)]),
    "look_alike": (
        EXECUTOR,
        1,
        [*_cycle(130)[:4], {**_v2_swap(POOL2, EXECUTOR), "data": "0x" + _word(1)}],
    ),
    # a router selling TKA for ETH over two pairs: it only receives WETH, and unwraps it all
    "router_sell": (
        ROUTER,
        1,
        [
            _transfer(TKA, BOT, POOL1, 10),
            _v2_swap(POOL1, POOL2),
            _v2_swap(POOL2, ROUTER),
            _transfer(WETH, POOL2, ROUTER, 50),
            _withdrawal(ROUTER, 50),
        ],
    ),
    # a V3 hop pays the Executor, which pays the next pool: TKA nets to zero
    "v3_arb": (
        EXECUTOR,
        1,
        [
            _transfer(TKA, POOL1, EXECUTOR, 4),
            _transfer(WETH, EXECUTOR, POOL1, 5),
            _v3_swap(POOL1),
            _transfer(TKA, EXECUTOR, POOL2, 4),
            _transfer(WETH, POOL2, EXECUTOR, 7),
            _v2_swap(POOL2, EXECUTOR),
        ],
    ),
}


def _hand_made(tmp_path: Path) -> Dataset:
    """Block 10 (half full) holds the ``arb`` case; block 11 every case."""
    blocks, txs, receipts, logs = [], [], [], []
    for number, names in ((10, ["arb"]), (11, list(CASES))):
        blocks.append(
            {
                "number": number,
                "hash": _topic(f"{number:x}"),
                "parent_hash": _topic(f"{number - 1:x}"),
                "timestamp": 12 * number,
                "gas_limit": 1_000_000,
                "gas_used": 500_000 + number,
                "base_fee_per_gas": str(BASE_FEE),
            }
        )
        for i, name in enumerate(names):
            to, status, tx_logs = CASES[name]
            h = "0x" + keccak(text=f"{number}-{name}").hex()
            txs.append(
                {
                    "block_number": number,
                    "transaction_index": i,
                    "hash": h,
                    "from": BOT,
                    "to": to,
                    "nonce": i,
                    "gas": 300_000,
                    "input": "0x",
                    "value": "0",
                    "gas_price": str(BASE_FEE + TIP),
                }
            )
            receipts.append(
                {
                    "block_number": number,
                    "transaction_index": i,
                    "transaction_hash": h,
                    "status": status,
                    "gas_used": 100_000 + i,
                    "cumulative_gas_used": 100_000,
                    "effective_gas_price": str(BASE_FEE + TIP),
                }
            )
            logs += [
                {
                    **log,
                    "block_number": number,
                    "transaction_index": i,
                    "log_index": len(logs) + k,
                    "transaction_hash": h,
                }
                for k, log in enumerate(tx_logs)
            ]
    ds = Dataset.create(tmp_path / "d", chain_id=1, source="test")
    ds.append_blocks(
        10,
        11,
        {
            "blocks": pl.DataFrame(blocks),
            "transactions": pl.DataFrame(txs),
            "receipts": pl.DataFrame(receipts),
            "logs": pl.DataFrame(logs),
        },
    )
    return ds


def test_hand_made_edge_cases(tmp_path: Path) -> None:
    payments = searcher_payments(_hand_made(tmp_path), 10, 11, WETH.upper().replace("0X", "0x"))
    names = {"0x" + keccak(text=f"{n}-{name}").hex(): name for n in (10, 11) for name in CASES}
    found = [(p.block, names[p.tx_hash]) for p in payments]
    assert found == [(10, "arb"), (11, "arb"), (11, "v3_arb")]
    first, arb, v3 = payments
    assert first.parent_fullness_bps == 0  # block 9 is not in the dataset
    assert arb.parent_fullness_bps == 500_010 * 10_000 // 1_000_000 == 5000
    assert (arb.searcher, arb.contract, arb.value, arb.coinbase_bid) == (BOT, EXECUTOR, 30, 15)
    assert arb.priority_paid == TIP * 100_000 and arb.gas_used == 100_000
    assert arb.paid == TIP * 100_000 + 15 and arb.share_bps == arb.paid * 10_000 // 30
    assert (v3.value, v3.coinbase_bid, v3.priority_paid) == (2, 0, TIP * v3.gas_used)


# ---- the real mainnet sample -------------------------------------------------------------

MAINNET_WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
FIRST_TX = "0xeb107a40ba73a50c79a9f2026e902d758d1c5e5e211f7a7db1b294f88f118dd0"


def test_mainnet_sample(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    import_ethereum_etl(mainnet_sample(), out)
    ds = Dataset.open(out)
    # No cyclic V2/V3 arbitrage in these two blocks. Five two-swap token-for-ETH sells through
    # routers (the router receives WETH from the last pair and unwraps it all) would each look
    # like an arbitrage bidding 100% of its value without the "contract sent WETH" rule.
    assert searcher_payments(ds, 17173049, 17173050, MAINNET_WETH) == []
    # The first transaction is an MEV bot's sandwich front-run: one swap, WETH out, token in.
    logs = ds.read("logs").filter(pl.col("transaction_hash") == FIRST_TX).to_dicts()
    assert swap_count(logs) == 1
    assert cyclic_gain(logs, "0x6b75d8af000000e20b7a7ddf000ba900b4009a80", MAINNET_WETH) is None
