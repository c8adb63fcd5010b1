"""The live runner in live mode on the devnet, as the e2e tests set it up and check it: a funded
searcher with its Executor, a bundle sender to the devnet relay, and the reconciliation of a
run against the chain (to the wei)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from eth_account import Account

from devnet.live_node import DevnetNode
from live.engine import LiveEngine
from live.nonces import NonceManager
from live.relays import FanOut, FlashbotsRelay
from live.risk import RiskLimits, RiskManager
from live.risk_state import risk_state_path
from live.signer import SearcherIdentity
from live.submit import BundleSender
from workbench.chain.abi import decode_result, encode_call
from workbench.engine.bootstrap import execution_config
from workbench.engine.searcher import Searcher
from workbench.rpc import RetryPolicy, RpcClient
from workbench.strategy.api import create


def live_engine(
    node: DevnetNode,
    tmp_path: Path,
    db: str,
    account: object,
    ws_url: str,
    *,
    identity: SearcherIdentity | None = None,
    kill_switch: Path | None = None,
    keep_risk_state: bool = False,
) -> LiveEngine:
    """A live engine for ``account`` (its Executor installed by the devnet), its nonces (and
    with ``keep_risk_state`` its risk state) in ``tmp_path / "state"``."""
    executor = node.executors[account.address]  # type: ignore[attr-defined]
    identity = identity or SearcherIdentity(Account.create())
    relay = FlashbotsRelay(
        node.relay_url,
        identity,
        name="devnet",
        timeout=0.5,
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2),
    )
    nonces = NonceManager(tmp_path / "state", node.chain_id, account.address)  # type: ignore[attr-defined]
    sender = BundleSender(
        account,  # type: ignore[arg-type]
        execution_config(node.market, node.chain_id, executor),
        nonces,
        FanOut([relay]),
    )
    return LiveEngine(
        strategy=create("backrun_arb", {}),
        strategy_name="backrun_arb",
        config={},
        rpc_url=node.rpc_url,
        ws_url=ws_url,
        market=node.market,
        risk=RiskManager(
            RiskLimits(
                capital_cap=20 * 10**18, base_token=node.market.weth, kill_switch=kill_switch
            )
        ),
        mode="live",
        searcher=Searcher(account, executor),  # type: ignore[arg-type]
        sender=sender,
        db_url=db,
        poll_seconds=0.3,
        risk_state=(
            risk_state_path(tmp_path / "state", node.chain_id, account.address)  # type: ignore[attr-defined]
            if keep_risk_state
            else None
        ),
    )


def holdings(node: DevnetNode, account: str, block: int | str = "latest") -> int:
    """The searcher's ETH plus its Executor's WETH at ``block``."""
    rpc = RpcClient(node.rpc_url)
    tag = block if isinstance(block, str) else hex(block)
    executor = node.executors[account]
    data = "0x" + encode_call("TestERC20", "balanceOf", [executor]).hex()
    reply = rpc.call("eth_call", [{"to": node.market.weth, "data": data}, tag])
    weth = int(decode_result("TestERC20", "balanceOf", reply)[0])
    return weth + int(rpc.call("eth_getBalance", [account, tag]), 16)


def reconcile(
    node: DevnetNode, engine: LiveEngine, db: str, account: str, before: int
) -> dict[str, int]:
    """Checks the run against the chain; ``before``: the searcher's holdings before it."""
    run = engine.run_info
    assert run is not None
    start, end = run.first_block - 1, engine.head
    rpc = RpcClient(node.rpc_url)
    on_chain = holdings(node, account, end) - before
    with sa.create_engine(db).connect() as c:
        landed = c.execute(
            sa.text(
                "select a.tx_hash, a.nonce, a.realised_pnl, a.target_block from live_actions a "
                "join opportunities o on o.id = a.opportunity_id "
                f"where o.run_id = {run.id} and a.landed"
            )
        ).fetchall()
        submitted = c.execute(
            sa.text(
                "select a.tx_hash, a.nonce, a.target_block, a.bundle_hash from live_actions a "
                "join opportunities o on o.id = a.opportunity_id "
                f"where o.run_id = {run.id} and a.action = 'submitted'"
            )
        ).fetchall()
        blocks = [
            r[0]
            for r in c.execute(
                sa.text(f"select block_number from blocks where run_id={run.id} order by 1")
            )
        ]
    # Our transactions on chain in the run: exactly the landed ones, nonces consecutive.
    ours = []
    for n in range(start + 1, end + 1):
        block = rpc.call("eth_getBlockByNumber", [hex(n), True])
        ours += [
            (int(t["nonce"], 16), t["hash"], n)
            for t in block["transactions"]
            if t["from"].lower() == account.lower()
        ]
    assert sorted(h for _, h, _ in ours) == sorted(r[0] for r in landed)
    realised = sum(int(r[2]) for r in landed)
    assert realised == on_chain, f"reconciled {realised} wei, on chain {on_chain} wei"
    nonces = [n for n, _, _ in ours]
    assert nonces == sorted(set(nonces)), "a nonce was used twice"
    # A nonce goes to one target block at a time (replacements share it); it is used again,
    # for a later block, only after the bundles holding it missed theirs.
    landed_hashes = {r[0] for r in landed}
    by_nonce: dict[int, dict[int, set[str]]] = {}
    for tx_hash, nonce, target, _ in submitted:
        by_nonce.setdefault(int(nonce), {}).setdefault(int(target), set()).add(tx_hash)
    for nonce, targets in by_nonce.items():
        *earlier, _ = sorted(targets)
        assert not any(targets[t] & landed_hashes for t in earlier), (nonce, targets)
    # No block missed.
    assert blocks == list(range(run.first_block, end + 1))
    # The relay never accepted the same bundle twice for one block.
    accepted = Counter(
        (b.hash, b.block)
        for n in range(run.first_block, end + 2)
        for b in node.relay.bundles_for(n)
    )
    assert all(v == 1 for v in accepted.values())
    return {"landed": len(landed), "realised": realised, "submitted": len(submitted)}


def child_main() -> None:
    """A live runner in a process of its own, to be killed (``tests/e2e/test_live_halt.py``):
    what it runs comes as JSON on stdin (keys included: never in argv)."""
    import asyncio
    import json
    import sys

    from workbench.chain.market_spec import DeployedMarket

    cfg = json.loads(sys.stdin.read())
    account = Account.from_key(cfg["key"])
    market = DeployedMarket.load(Path(cfg["market"]))
    relay = FlashbotsRelay(
        cfg["relay_url"],
        SearcherIdentity(Account.from_key(cfg["identity_key"])),
        name="devnet",
        timeout=0.5,
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2),
    )
    state = Path(cfg["state_dir"])
    chain_id = int(cfg["chain_id"])
    sender = BundleSender(
        account,
        execution_config(market, chain_id, cfg["executor"]),
        NonceManager(state, chain_id, account.address),
        FanOut([relay]),
    )
    engine = LiveEngine(
        strategy=create("backrun_arb", {}),
        strategy_name="backrun_arb",
        config={},
        rpc_url=cfg["rpc_url"],
        ws_url=cfg["ws_url"],
        market=market,
        risk=RiskManager(RiskLimits(capital_cap=20 * 10**18, base_token=market.weth)),
        mode="live",
        searcher=Searcher(account, cfg["executor"]),
        sender=sender,
        db_url=cfg["db"],
        poll_seconds=0.3,
        risk_state=risk_state_path(state, chain_id, account.address),
    )
    asyncio.run(engine.run())


if __name__ == "__main__":
    child_main()
