"""Reorgs under the live runner, on the devnet: right after a block holding our landed bundle
is processed, the node rolls back its last 1 or 2 blocks and mines them again without any
bundle (another builder's blocks won). The runner must walk back: the orphaned transaction is
no longer landed and its PnL no longer counted, its nonce is used again by a later bundle (no
gap), the follower follows the new chain, and the run reconciles with the chain to the wei."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from eth_account import Account

from devnet import ensure_default_dataset
from devnet.builder import BuiltBlock
from devnet.live_node import DevnetNode
from live.relays import BundleRequest, FlashbotsRelay
from live.signer import SearcherIdentity
from tests.e2e.live_setup import holdings, live_engine, reconcile
from workbench.engine.loop import BlockResult
from workbench.rpc import RpcClient
from workbench.strategy.api import create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

FIRST = 600


@pytest.mark.parametrize("depth", [1, 2])
def test_a_reorg_orphaning_our_bundle_is_walked_back(tmp_path: Path, depth: int) -> None:
    dataset = ensure_default_dataset()
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    account = Account.create()
    with DevnetNode(
        dataset, block_time=1.5, first_block=FIRST, searchers=[account.address]
    ) as node:
        rpc = RpcClient(node.rpc_url)
        before = holdings(node, account.address)
        count_before = int(rpc.call("eth_getTransactionCount", [account.address, "latest"]), 16)
        engine = live_engine(node, tmp_path, db, account, node.ws_url)
        landed_at: list[int] = []
        orphaned: list[BuiltBlock] = []
        new_chain: list[BuiltBlock] = []
        follower_checked: list[int] = []

        def reorg() -> None:
            orphaned.extend(b for b in node.built if b.number > landed_at[0] - depth)
            new_chain.extend(node.reorg(depth))

        def on_block(result: BlockResult) -> None:
            if not landed_at and any(o.action and o.action.landed for o in result.opportunities):
                landed_at.append(result.number)  # orphaned before the next block is built
                threading.Thread(target=reorg, daemon=True).start()
            elif new_chain and result.number > new_chain[-1].number:
                # the follower holds the new chain's state: our balances as the node has them
                tag = hex(result.number)
                mine = engine.follower_node().rpc.call(
                    "eth_getBalance", [account.address, "latest"]
                )
                assert mine == rpc.call("eth_getBalance", [account.address, tag])
                follower_checked.append(result.number)

        asyncio.run(engine.run(until_block=FIRST + 24, on_block=on_block))
        assert landed_at, "no bundle of ours landed: nothing to orphan"
        got = reconcile(node, engine, db, account.address, before)
        head = engine.head
        count = int(rpc.call("eth_getTransactionCount", [account.address, hex(head)]), 16)
        ours = [
            int(t["nonce"], 16)
            for n in range(FIRST, head + 1)
            for t in rpc.call("eth_getBlockByNumber", [hex(n), True])["transactions"]
            if t["from"].lower() == account.address.lower()
        ]
        assert engine.sender is not None
        floor = engine.sender.nonces.floor
        orphan_hashes = {b.hash for b in orphaned}
        with sa.create_engine(db).connect() as c:
            notes = c.execute(sa.text("select notes from runs")).scalar_one()
            mismatched = c.execute(
                sa.text("select sum(txs_mismatched) from blocks where block_number > :n"),
                {"n": landed_at[0]},
            ).scalar_one()
    assert engine.tally.reorgs == 1 and engine.tally.orphaned_blocks == depth
    assert {b.number for b in orphaned} == {b.number for b in new_chain}
    assert not orphan_hashes & {b.hash for b in new_chain}
    (note,) = json.loads(notes)["reorgs"]
    assert note["fork_point"] == landed_at[0] - depth
    assert {o["hash"] for o in note["orphaned"]} == orphan_hashes
    # Our nonces on the new chain run on without a gap: the orphaned one was used again.
    assert ours == list(range(count_before, count_before + len(ours)))
    assert floor == count
    assert got["landed"] == len(ours)
    assert follower_checked and mismatched == 0


def test_a_transaction_of_ours_outside_any_bundle_is_counted(tmp_path: Path) -> None:
    """A transaction of the searcher's account that none of the runner's bundles carried (sent
    in a bundle by someone else, as a leaked one would land) is found in its block: counted,
    its gas booked as a loss, the PnL still the chain's."""
    dataset = ensure_default_dataset()
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    account = Account.create()
    with DevnetNode(
        dataset, block_time=1.5, first_block=FIRST, searchers=[account.address]
    ) as node:
        rpc = RpcClient(node.rpc_url)
        before = holdings(node, account.address)
        engine = live_engine(node, tmp_path, db, account, node.ws_url)
        engine.strategy = create("backrun_arb", {"min_net_profit": 10**30})  # sends nothing
        sent: list[str] = []

        def leak(result: BlockResult) -> None:
            if result.number != FIRST + 2:
                return
            nonce = int(rpc.call("eth_getTransactionCount", [account.address, "latest"]), 16)
            tx = account.sign_transaction(
                {
                    "to": account.address,
                    "value": 0,
                    "gas": 21_000,
                    "maxFeePerGas": 2 * 10**11,
                    "maxPriorityFeePerGas": 10**11,  # outbids the runner's bundles
                    "nonce": nonce,
                    "chainId": node.chain_id,
                }
            )
            raw = "0x" + tx.raw_transaction.hex()
            relay = FlashbotsRelay(node.relay_url, SearcherIdentity(Account.create()))
            for block in range(FIRST + 4, FIRST + 7):  # one the runner never sent
                assert relay.send_bundle(BundleRequest(txs=(raw,), block=block)).ok
            sent.append("0x" + tx.hash.hex())

        asyncio.run(engine.run(until_block=FIRST + 8, on_block=leak))
        receipt = rpc.call("eth_getTransactionReceipt", [sent[0]])
        on_chain = holdings(node, account.address, engine.head) - before
    assert receipt is not None and int(receipt["status"], 16) == 1
    gas = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert engine.tally.outside_target == 1
    assert engine.tally.realised_net == on_chain  # the leaked one's gas included
    assert engine.risk.losses_on(time.time_ns() // 10**6) >= gas
