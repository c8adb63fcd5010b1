"""Blocks per second of `make backtest`'s engine vs a naive baseline, on the devnet default.

Rolling (the engine): ``run_backtest`` with ``cyclic_arb`` on a throwaway SQLite store (what
`make backtest` runs, without the HTML report): one Anvil from the genesis state, pools
seeded once and then followed from the dataset's logs, exact local AMM math for screening,
EVM simulation of each intent, the recorded block applied and its receipts checked. Timed from
the request (Anvil start, genesis load, store and searcher setup included) to the finished
run; the steady rate is between the first and last block's callbacks. The one-time dataset
build (``ensure_default_dataset``) is not timed.

Naive: per block N, a NEW Anvil forked (``--fork-url``/``--fork-block-number N-1``) from a
long-lived "archive" Anvil that follows the chain; every 2-/3-hop WETH cycle (the engine's
cycle set; the engine re-screens only those through pools its parent block moved) is screened
at a ladder of 8 input sizes (0.01-100 WETH, x4 apart) with one web3.py contract call per
hop (QuoterV2.quoteExactInputSingle for V3, Router02.getAmountsOut for Uniswap V2, and
getReserves plus the pair's fee for the V2 fork, which has no router); cycles that pay for
gas and the bid (the strategy's own cost model and pool-disjoint choice) are its candidates;
then the recorded block is applied on the fork and its receipts checked. Timed per block from fork
start to fork stop; keeping the archive up to date is reported apart and not counted (this
favours the baseline).

Peak RSS: this process's VmHWM (reset through /proc/self/clear_refs before each side) plus
each side's Anvils' VmHWM read just before they stop (the naive side: archive + largest fork);
the peaks need not coincide, so the sum is an upper bound. Prints a table, then as its last
line: {"benchmark": "backtest", "figures": {...}, "ratios": {"rolling_vs_naive": X}}.
Target: X >= 50.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.providers import HTTPProvider

import workbench.strategy.builtin  # noqa: F401  (registers cyclic_arb)
from workbench.chain.anvil import Anvil, AnvilConfig
from workbench.chain.contracts import contract
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.backtest import BacktestRequest, run_backtest
from workbench.engine.fidelity import Fidelity, compare
from workbench.engine.replay import DEFAULT_CAPITAL, MARKET_FILE, BlockResult
from workbench.market.fetch import fetch_pool_state
from workbench.market.graph import Cycle, Hop, find_cycles
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.market.v3.state import UniswapV3State
from workbench.sources.block_view import BlockData, load_blocks
from workbench.sources.dataset import Dataset
from workbench.sources.devnet import ensure_default_dataset, load_info, replay_anvil
from workbench.strategy.builtin.arb_screen import gas_estimate
from workbench.strategy.builtin.cyclic_arb import CyclicArbConfig

STRATEGY = "cyclic_arb"
LADDER = tuple(min(10**16 * 4**k, DEFAULT_CAPITAL) for k in range(8))  # 0.01 .. 100 WETH
Quote = Callable[[int], int]


# ---- memory ------------------------------------------------------------------------------


def hwm_mb(pid: int | str = "self") -> float:
    """A process's peak resident set (VmHWM) in MB; 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) / 1024


def reset_hwm() -> None:
    """Restarts this process's VmHWM at its current RSS (Linux clear_refs 5)."""
    with contextlib.suppress(OSError):  # else the figure is the process's lifetime peak
        Path("/proc/self/clear_refs").write_text("5")


def children() -> list[int]:
    """The pids of this process's children (the Anvils)."""
    me, pids = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                pids.append(int(entry.name))
    return pids


# ---- rolling -----------------------------------------------------------------------------


def run_rolling(root: Path, first: int, last: int) -> dict[str, Any]:
    reset_hwm()
    stamps: list[float] = []
    intents: dict[int, set[str]] = {}
    anvil_mb = 0.0

    def on_block(result: BlockResult) -> None:
        nonlocal anvil_mb
        stamps.append(time.perf_counter())
        intents[result.number] = {o.intent.cycle.id for o in result.opportunities}
        if result.number == last:  # the replay's Anvil is still running
            anvil_mb = sum(hwm_mb(p) for p in children())

    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as tmp:
        req = BacktestRequest(
            dataset=root,
            strategy=STRATEGY,
            config={},
            first=first,
            last=last,
            db_url=f"sqlite:///{Path(tmp) / 'runs.db'}",
        )
        start = time.perf_counter()
        run_backtest(req, on_block=on_block)
        seconds = time.perf_counter() - start
    n = last - first + 1
    assert len(stamps) == n, f"{len(stamps)} blocks replayed, {n} asked for"
    return {
        "seconds": seconds,
        "blocks_per_s": n / seconds,
        "steady_blocks_per_s": (n - 1) / (stamps[-1] - stamps[0]) if n > 1 else n / seconds,
        "first_block_s": stamps[0] - start,
        "peak_rss_mb": hwm_mb() + anvil_mb,
        "python_mb": hwm_mb(),
        "anvil_mb": anvil_mb,
        "intents": intents,
    }


# ---- naive -------------------------------------------------------------------------------


def apply_block(node: Anvil, block: BlockData) -> Fidelity:
    """Sends the block's signed transactions in order, mines it as recorded, checks receipts."""
    hashes = [node.rpc.call("eth_sendRawTransaction", [tx["raw"]]) for tx in block.transactions]
    node.rpc.call("anvil_setCoinbase", [block.miner])
    node.set_next_base_fee(block.base_fee)
    node.mine(timestamp=block.timestamp)
    fidelity = Fidelity()
    for tx, h in zip(block.transactions, hashes, strict=True):
        got = node.rpc.call("eth_getTransactionReceipt", [h])
        problem = compare(tx["hash"], got, block.receipts[tx["hash"]], block.logs_of(tx["hash"]))
        if problem:
            fidelity.mismatches.append(problem)
        else:
            fidelity.matched += 1
    return fidelity


def hop_quoters(w3: Web3, market: DeployedMarket, cycles: list[Cycle]) -> dict[Hop, Quote]:
    """For each hop of ``cycles``, amount_in -> amount_out through one web3.py call."""
    quoter = contract(w3, "QuoterV2", market.v3_quoter).functions
    routers = {
        d: contract(w3, "UniswapV2Router02", a).functions for d, a in market.v2_routers.items()
    }
    dex_of = {a.lower(): key.split(":")[0] for key, a in market.v2_pairs.items()}

    def quote(hop: Hop) -> Quote:
        a, b, pool = (
            Web3.to_checksum_address(hop.token_in),
            Web3.to_checksum_address(hop.token_out),
            hop.pool,
        )
        if isinstance(pool, UniswapV3State):
            return lambda x: int(quoter.quoteExactInputSingle((a, b, x, pool.fee, 0)).call()[0])
        if (router := routers.get(dex_of[hop.address])) is not None:
            return lambda x: int(router.getAmountsOut(x, [a, b]).call()[-1])
        # a V2 fork pair, which has no router: read its reserves, apply its fee
        assert isinstance(pool, UniswapV2Pool)
        pair = contract(w3, "UniswapV2Pair", Web3.to_checksum_address(pool.address)).functions

        def from_reserves(x: int) -> int:
            r0, r1, _ = pair.getReserves().call()
            return replace(pool, reserve0=r0, reserve1=r1).amount_out(a, x)

        return from_reserves

    return {h: quote(h) for h in {h for c in cycles for h in c.hops}}


def naive_screen(
    quotes: dict[Hop, Quote], cycles: list[Cycle], block: BlockData, cfg: CyclicArbConfig
) -> tuple[int, set[str], int]:
    """(candidates, chosen cycle ids, quotes made): every cycle at every ladder size, hop by
    hop, through the chain."""
    fee_per_gas = block.base_fee + cfg.priority_fee
    found: list[tuple[int, Cycle]] = []
    calls = 0
    for cycle in cycles:
        best = 0
        for size in LADDER:
            amount = size
            try:
                for hop in cycle.hops:
                    calls += 1
                    amount = quotes[hop](amount)
                    if amount == 0:
                        break
            except ContractLogicError:
                amount = 0
            best = max(best, amount - size)
        net = best - best * cfg.bid_bps // 10_000 - gas_estimate(cycle, cfg) * fee_per_gas
        if best > 0 and net >= cfg.min_net_profit:
            found.append((net, cycle))
    chosen: set[str] = set()
    used: set[str] = set()
    for _, cycle in sorted(found, key=lambda pair: (-pair[0], pair[1].id)):
        pools = {h.address for h in cycle.hops}
        if not pools & used:
            used |= pools
            chosen.add(cycle.id)
    return len(found), chosen, calls


def run_naive(root: Path, first: int, last: int) -> dict[str, Any]:
    reset_hwm()
    dataset, info = Dataset.open(root), load_info(root)
    market = DeployedMarket.load(root / MARKET_FILE)
    chain, genesis = info["chain"], int(info["genesis"]["block_number"])
    cfg = CyclicArbConfig()
    per_block, chosen, candidates, calls, matched, mismatched = [], {}, 0, 0, 0, 0
    fork_mb, archive_s, fork_start_s, screen_s = 0.0, 0.0, 0.0, 0.0
    t = time.perf_counter()
    with replay_anvil(root) as archive:
        for block in load_blocks(dataset, genesis + 1, first - 1) if first > genesis + 1 else ():
            apply_block(archive, block)
        addresses = [*market.v2_pairs.values(), *market.v3_pools.values()]
        cycles = find_cycles([fetch_pool_state(archive.rpc, a) for a in addresses], market.weth)
        archive_s += time.perf_counter() - t
        for block in load_blocks(dataset, first, last):
            t = time.perf_counter()
            fork = AnvilConfig(
                fork_url=archive.url,
                fork_block_number=block.number - 1,
                chain_id=chain["chain_id"],
                hardfork=chain["hardfork"],
                gas_limit=chain["block_gas_limit"],
                mining="none",
                order="fifo",
            )
            with Anvil(fork) as node:
                fork_start_s += node.startup_seconds or 0.0
                t_screen = time.perf_counter()
                quotes = hop_quoters(Web3(HTTPProvider(node.url)), market, cycles)
                found, chosen[block.number], n = naive_screen(quotes, cycles, block, cfg)
                screen_s += time.perf_counter() - t_screen
                candidates, calls = candidates + found, calls + n
                fidelity = apply_block(node, block)
                matched, mismatched = (
                    matched + fidelity.matched,
                    mismatched + len(fidelity.mismatches),
                )
                fork_mb = max(fork_mb, hwm_mb(node.pid or 0))
            per_block.append(time.perf_counter() - t)
            t = time.perf_counter()
            apply_block(archive, block)  # the archive node follows the chain
            archive_s += time.perf_counter() - t
        archive_mb = hwm_mb(archive.pid or 0)
    return {
        "seconds": sum(per_block),
        "blocks_per_s": len(per_block) / sum(per_block),
        "archive_s": archive_s,
        "cycles": len(cycles),
        "fork_start_s": fork_start_s,
        "screen_s": screen_s,
        "quotes_per_block": calls / len(per_block),
        "candidates": candidates,
        "chosen": chosen,
        "txs_matched": matched,
        "txs_mismatched": mismatched,
        "peak_rss_mb": hwm_mb() + archive_mb + fork_mb,
        "python_mb": hwm_mb(),
        "anvil_mb": archive_mb + fork_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=300, help="rolling: first N blocks")
    parser.add_argument("--naive-blocks", type=int, default=10, help="naive: first N blocks")
    args = parser.parse_args()
    root = ensure_default_dataset()  # not timed: builds it (~45 s) only if missing or stale
    genesis = int(load_info(root)["genesis"]["block_number"])
    held = Dataset.open(root).block_range
    assert held is not None
    first = genesis + 1
    last = min(held[1], genesis + args.blocks)
    naive_last = min(last, genesis + args.naive_blocks)

    rolling = run_rolling(root, first, last)
    naive = run_naive(root, first, naive_last)
    window = range(first, naive_last + 1)
    rolling_chosen = {(n, c) for n in window for c in rolling["intents"][n]}
    naive_chosen = {(n, c) for n in window for c in naive["chosen"][n]}

    figures: dict[str, float] = {
        "blocks": last - first + 1,
        "naive_blocks": naive_last - first + 1,
        "rolling_blocks_per_s": rolling["blocks_per_s"],
        "rolling_steady_blocks_per_s": rolling["steady_blocks_per_s"],
        "rolling_seconds": rolling["seconds"],
        "rolling_first_block_s": rolling["first_block_s"],
        "rolling_intents": sum(len(v) for v in rolling["intents"].values()),
        "rolling_intents_in_naive_blocks": len(rolling_chosen),
        "rolling_peak_rss_mb": rolling["peak_rss_mb"],
        "rolling_python_peak_rss_mb": rolling["python_mb"],
        "rolling_anvil_peak_rss_mb": rolling["anvil_mb"],
        "naive_blocks_per_s": naive["blocks_per_s"],
        "naive_seconds": naive["seconds"],
        "naive_fork_start_s": naive["fork_start_s"],
        "naive_screen_s": naive["screen_s"],
        "naive_archive_s": naive["archive_s"],
        "naive_cycles": naive["cycles"],
        "naive_quotes_per_block": naive["quotes_per_block"],
        "naive_candidates": naive["candidates"],
        "naive_chosen": len(naive_chosen),
        "chosen_in_both": len(rolling_chosen & naive_chosen),
        "naive_txs_matched": naive["txs_matched"],
        "naive_txs_mismatched": naive["txs_mismatched"],
        "naive_peak_rss_mb": naive["peak_rss_mb"],
        "naive_python_peak_rss_mb": naive["python_mb"],
        "naive_anvil_peak_rss_mb": naive["anvil_mb"],
    }
    ratios = {"rolling_vs_naive": rolling["blocks_per_s"] / naive["blocks_per_s"]}
    for key, value in figures.items():
        print(f"{key:>34}: {value:12.3f}" if isinstance(value, float) else f"{key:>34}: {value:12}")
    print(f"{'rolling_vs_naive':>34}: {ratios['rolling_vs_naive']:12.1f}")
    print(
        json.dumps(
            {
                "benchmark": "backtest",
                "figures": {
                    k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()
                },
                "ratios": {k: round(v, 1) for k, v in ratios.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
