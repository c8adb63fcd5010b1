"""``generate``: a devnet history written as a dataset, with what rebuilds it.

The output is built in a hidden sibling directory and renamed into place when complete, so an
interrupted run leaves no half dataset (and the next run clears the leftover). Layout::

    DIR/manifest.json, blocks/ transactions/ receipts/ logs/ mempool/   the dataset (its
                                origin: the genesis state below, with its head)
    DIR/genesis/state.json.gz   Anvil's state after setup: load it, then replay the blocks
    DIR/market.json             addresses of the deployed market (DeployedMarket)
    DIR/devnet.json             seed, parameters, agents, genesis head and statistics
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from devnet.config import DevnetConfig, DevnetError
from devnet.history import History, MinedBlock
from devnet.keys import coinbase
from devnet.setup import GENESIS_FILE, Genesis, setup_chain
from devnet.spec import default_market, pool_registry
from workbench import __version__
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.market_spec import MARKET_FILE
from workbench.sources.dataset import Dataset
from workbench.sources.origin import GenesisOrigin
from workbench.sources.rpc_convert import (
    block_row,
    frame,
    log_rows,
    mempool_row,
    receipt_row,
    transaction_row,
)
from workbench.sources.schema import BLOCK_TABLES

DEVNET_FILE = "devnet.json"
FORMAT = 1
_CHUNK = 100  # blocks per dataset append
_SETUP_GAS_LIMIT = 30_000_000  # deployments need more than the devnet's block gas limit
_DEV_BALANCE_ETH = 10_000_000

Progress = Callable[[int, int], None]


def generation_anvil(config: DevnetConfig) -> AnvilConfig:
    return AnvilConfig(
        chain_id=config.chain_id,
        timestamp=config.genesis_timestamp,
        hardfork=config.hardfork,
        gas_limit=_SETUP_GAS_LIMIT,
        balance=_DEV_BALANCE_ETH,
        order="fifo",
    )


def generate(
    out: Path | str,
    config: DevnetConfig | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Builds the history of ``config`` (default: the default devnet) into ``out``; returns
    the contents of devnet.json. ``out`` must be empty or absent unless ``force``."""
    config = config or DevnetConfig()
    out = Path(out)
    if out.exists() and not force and (not out.is_dir() or any(out.iterdir())):
        raise DevnetError(f"{out} is not empty; choose another --out or pass --force to replace it")
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        info = _build(tmp, config, progress)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # interrupted or failed: leave nothing behind
        raise
    _replace(tmp, out)
    return info


def _build(tmp: Path, config: DevnetConfig, progress: Progress | None) -> dict[str, Any]:
    spec = default_market()
    with Anvil(generation_anvil(config)) as node:
        genesis = setup_chain(node, spec, config, tmp)
        history = History(node, config, genesis, pool_registry(spec, genesis.market))
        dataset = Dataset.create(
            tmp,
            chain_id=config.chain_id,
            source="devnet",
            origin=genesis_origin(config, genesis, tmp),
        )
        rows: dict[str, list[dict[str, Any]]] = {t: [] for t in BLOCK_TABLES}
        for i in range(1, config.blocks + 1):
            _add_rows(rows, history.step(), history)
            if i % _CHUNK == 0 or i == config.blocks:
                first = int(rows["blocks"][0]["number"])
                dataset.append_blocks(
                    first, history.head.number, {t: frame(t, r) for t, r in rows.items()}
                )
                rows = {t: [] for t in rows}
            if progress:
                progress(i, config.blocks)
        dataset.append_mempool(_mempool_frame(history))
        coinbase_balance = int(
            node.rpc.call("eth_getBalance", [coinbase(config.seed), "latest"]), 16
        )
    genesis.market.save(tmp / MARKET_FILE)
    info = _describe(config, genesis, history, tmp, coinbase_balance)
    (tmp / DEVNET_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info


def genesis_origin(config: DevnetConfig, genesis: Genesis, root: Path) -> GenesisOrigin:
    """Where a replay of the history starts: the state written at the end of the setup."""
    return GenesisOrigin(
        state=GENESIS_FILE,
        sha256=hashlib.sha256((root / GENESIS_FILE).read_bytes()).hexdigest(),
        block_number=genesis.number,
        block_hash=genesis.hash,
        hardfork=config.hardfork,
        timestamp=config.genesis_timestamp,
        gas_limit=config.block_gas_limit,
        coinbase=coinbase(config.seed),
    )


def _add_rows(rows: dict[str, list[dict[str, Any]]], mined: MinedBlock, history: History) -> None:
    rows["blocks"].append(block_row(mined.block))
    for tx in mined.block["transactions"]:
        raw = "0x" + history.sent[tx["hash"]].raw.hex()
        rows["transactions"].append(transaction_row(tx, raw))
    for r in mined.receipts:
        rows["receipts"].append(receipt_row(r))
        rows["logs"] += log_rows(r)


def _mempool_frame(history: History) -> pl.DataFrame:
    rows = []
    for tx in history.sent.values():
        fields = {
            "hash": tx.hash,
            "from": tx.sender,
            "to": tx.to,
            "value": 0,
            "gas": tx.gas,
            "maxFeePerGas": tx.max_fee,
            "maxPriorityFeePerGas": tx.tip,
            "input": "0x" + tx.data.hex(),
            "nonce": tx.nonce,
            "type": 2,
            "chainId": history.config.chain_id,
        }
        row = mempool_row(
            fields,
            tx_hash=tx.hash,
            first_seen_ms=tx.first_seen_ms,
            source="devnet",
            raw="0x" + tx.raw.hex(),
        )
        rows.append({**row, "included_block": tx.included_block})
    return frame("mempool", rows)


def _describe(
    config: DevnetConfig, genesis: Genesis, history: History, root: Path, coinbase_balance: int
) -> dict[str, Any]:
    t = history.tally
    slot_of = {
        tx.hash: genesis.number
        + 1
        + (tx.first_seen_ms // 1000 - genesis.timestamp) // config.block_time
        for tx in history.sent.values()
    }
    included = [tx for tx in history.sent.values() if tx.included_block is not None]
    genesis_path = root / GENESIS_FILE
    return {
        "format": FORMAT,
        "complete": True,
        "workbench_version": __version__,
        "seed": config.seed,
        "config": config.to_json(),
        "chain": {
            "chain_id": config.chain_id,
            "hardfork": config.hardfork,
            "genesis_timestamp": config.genesis_timestamp,
            "block_time": config.block_time,
            "block_gas_limit": config.block_gas_limit,
            "coinbase": coinbase(config.seed),
            "transaction_order": "fifo (the generator sends each block's transactions in order)",
        },
        "genesis": {
            "state": GENESIS_FILE,
            "sha256": hashlib.sha256(genesis_path.read_bytes()).hexdigest(),
            "block_number": genesis.number,
            "block_hash": genesis.hash,
            "timestamp": genesis.timestamp,
        },
        "blocks": [genesis.number + 1, history.head.number],
        "agents": [a.describe() for a in genesis.agents],
        "stats": {
            "transactions": len(included),
            "reverted": t.reverted,
            "swaps": dict(sorted(t.swaps.items())),
            "arbitrage_txs": dict(t.bot_txs),
            "arbitrage_reverted": dict(t.bot_reverted),
            "coinbase_bids_wei": str(coinbase_balance - t.priority_fees),
            "exact_math_disagreements": t.disagreements,
            "base_fee_wei": {
                "min": str(min(t.base_fees)),
                "max": str(max(t.base_fees)),
                "last": str(t.base_fees[-1]),
            },
            "mempool": {
                "sent": len(history.sent),
                "never_included": len(history.sent) - len(included),
                "included_after_their_slot": sum(
                    tx.included_block > slot_of[tx.hash] for tx in included if tx.included_block
                ),
            },
        },
    }


def _replace(tmp: Path, out: Path) -> None:
    """Moves the finished ``tmp`` to ``out``, replacing what was there."""
    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
