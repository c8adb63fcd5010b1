"""``workbench live`` assembled: settings in, a running engine with its status server out.

Shadow mode needs only the node and the market. Live mode also loads the funds keystore
(password from ``WORKBENCH_KEYSTORE_PASSWORD`` or a prompt) and the relay-signing identity
(``WORKBENCH_IDENTITY_PASSWORD``), syncs the nonce manager with the chain, and fans bundles
out to the relays given.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from live.api import StatusServer
from live.engine import LiveEngine
from live.metrics import LiveMetrics
from live.nonces import NonceManager, chain_nonce
from live.relays import FanOut, relay_from
from live.risk import RiskLimits, RiskManager
from live.risk_state import risk_state_path
from live.settings import LiveSettings
from live.signer import check_distinct, load_or_create_identity, load_signer
from live.submit import BundleSender
from live.token_safety import SimulatedTokenSafety
from workbench.chain.market_spec import DeployedMarket
from workbench.engine.bootstrap import execution_config
from workbench.engine.params import config_of, load_params
from workbench.engine.searcher import Searcher
from workbench.errors import ConfigError
from workbench.rpc import RpcClient
from workbench.store import RunInfo
from workbench.strategy.api import create
from workbench.types import address

log = logging.getLogger(__name__)


def build_engine(settings: LiveSettings, *, params: Any = None) -> LiveEngine:
    """The engine for ``settings`` (``params``: a tuned params file's contents, optional)."""
    settings.check_live()
    market = DeployedMarket.load(settings.market)
    config = dict(settings.strategy_config)
    inclusion = None
    if params is not None:
        config = {**config_of(params), **config}
        inclusion = params.inclusion
    strategy = create(settings.strategy, config)
    limits = RiskLimits.from_mapping(
        {"base_token": market.weth, **settings.risk, "capital_cap": settings.capital_cap}
    )
    risk = RiskManager(limits)
    searcher = sender = risk_state = None
    if settings.mode == "live":
        assert settings.keystore is not None and settings.executor is not None
        signer = load_signer(settings.keystore)
        identity = load_or_create_identity(
            settings.identity or settings.keystore.with_name("identity.json")
        )
        check_distinct(signer, identity)
        rpc = RpcClient(settings.rpc)
        chain_id = int(rpc.call("eth_chainId"), 16)
        nonces = NonceManager(settings.state_dir, chain_id, signer.address)
        risk_state = risk_state_path(settings.state_dir, chain_id, signer.address)
        nonces.sync(chain_nonce(rpc, signer.address, "latest"))
        relays = [relay_from(r, identity) for r in settings.relays]
        executor = address(settings.executor)
        searcher = Searcher(signer.account, executor)
        sender = BundleSender(
            signer.account, execution_config(market, chain_id, executor), nonces, FanOut(relays)
        )
    engine = LiveEngine(
        strategy=strategy,
        strategy_name=settings.strategy,
        config=config,
        rpc_url=settings.rpc,
        ws_url=settings.ws,
        market=market,
        risk=risk,
        mode=settings.mode,
        searcher=searcher,
        sender=sender,
        capital=settings.capital_cap,
        inclusion=inclusion,
        block_time=settings.block_time,
        confirmations=settings.confirmations,
        risk_state=risk_state,
        db_url=settings.db_url,
        metrics=LiveMetrics(),
    )
    # Each token is checked once, before its first use, by a buy and a sell on the follower.
    risk.token_safety = SimulatedTokenSafety(
        lambda: engine.follower_node(),
        engine.pools,
        weth=market.weth,
        trader=engine.executor.ctx.executor_address,  # probed as our Executor would trade
    )
    return engine


async def run_live(
    engine: LiveEngine,
    settings: LiveSettings,
    *,
    stop: asyncio.Event,
    until_block: int | None = None,
    on_ready: Callable[[StatusServer | None], None] | None = None,
) -> RunInfo:
    """Runs ``engine`` with its status server until ``stop`` (or ``until_block``)."""
    async with AsyncExitStack() as stack:
        if engine.sender is not None:  # closed last (callbacks run in reverse order)
            stack.callback(engine.sender.nonces.close)
            stack.callback(engine.sender.fanout.close)
        if until_block is not None:  # else the run would hold no block, and could not finish
            head = int(await asyncio.to_thread(engine.rpc.call, "eth_blockNumber"), 16)
            if until_block <= head:
                raise ConfigError(
                    f"--until-block {until_block} is not after the node's head {head}: "
                    "there would be no block to run"
                )
        server = None
        if settings.status_port is not None and engine.metrics is not None:
            server = StatusServer(
                port=settings.status_port,
                metrics=engine.metrics,
                status=engine.status,
                health=lambda: _health(engine, settings.max_head_age_s),
            )
            await stack.enter_async_context(server)
            engine.publish = server.publish
        if on_ready is not None:
            on_ready(server)
        return await engine.run(stop=stop, until_block=until_block)


def _health(engine: LiveEngine, max_head_age_s: float) -> tuple[bool, dict[str, Any]]:
    """Not healthy until the engine has started (its run opened at the node's head): before,
    the node may be unreachable and nothing is being watched."""
    if engine.run_info is None:
        return False, {"ok": False, "reason": "starting", "head": engine.head}
    risk = engine.risk
    age = time.monotonic() - engine.head_seen_at
    ok = age <= max_head_age_s and not risk.kill_switch_on()
    why = (
        None
        if ok
        else "kill switch on"
        if risk.kill_switch_on()
        else f"no new block for {age:.0f} s"
    )
    return ok, {"ok": ok, "reason": why, "head": engine.head, "head_age_s": round(age, 3)}


def load_params_file(path: Any) -> Any:
    return None if path is None else load_params(path)
