"""``workbench live``: registered on the workbench's command line through the
``workbench.commands`` entry point (the workbench never imports ``live``)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from workbench.errors import WorkbenchError

CONFIRM_FLAG = "--send-real-transactions"


def register(app: typer.Typer) -> None:
    from live.executor_cli import executor_app

    app.command(name="live")(live)
    app.add_typer(executor_app, name="executor")


def live(
    rpc: Annotated[str | None, typer.Option("--rpc", help="the node's JSON-RPC URL")] = None,
    ws: Annotated[str | None, typer.Option("--ws", help="the node's WebSocket URL")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="strategy name")] = None,
    capital_cap: Annotated[
        str | None, typer.Option("--capital-cap", help="most WETH ever at risk (decimal, e.g. 2)")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="shadow (default: simulate and record) or live")
    ] = None,
    relay: Annotated[
        list[str] | None, typer.Option("--relay", help="relay name or URL (repeat for several)")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="live.toml")] = None,
    market: Annotated[
        Path | None, typer.Option("--market", help="market.json: the pools to watch")
    ] = None,
    params: Annotated[
        Path | None, typer.Option("--params", help="params file from `workbench tune`")
    ] = None,
    keystore: Annotated[
        Path | None, typer.Option("--keystore", help="funds keystore (live)")
    ] = None,
    identity: Annotated[
        Path | None, typer.Option("--identity", help="relay-signing identity keystore (live)")
    ] = None,
    executor: Annotated[
        str | None, typer.Option("--executor", help="our Executor contract address (live)")
    ] = None,
    status_port: Annotated[
        int | None, typer.Option("--status-port", help="port of /health /status /metrics /events")
    ] = None,
    until_block: Annotated[
        int | None, typer.Option("--until-block", help="stop after this block")
    ] = None,
    send_real_transactions: Annotated[
        bool,
        typer.Option(
            CONFIRM_FLAG, help="required with --mode live: bundles with real transactions are sent"
        ),
    ] = False,
) -> None:
    """Run a strategy against a node: shadow (default) records what it would do; live sends
    bundles to relays under the capital cap."""
    from live.app import build_engine, load_params_file, run_live
    from live.settings import load_settings
    from workbench.cli.common import console, fail
    from workbench.rpc.redact import redact_url

    try:
        settings = load_settings(
            config,
            {
                "rpc": rpc,
                "ws": ws,
                "strategy": strategy,
                "capital_cap": capital_cap,
                "mode": mode,
                "relays": tuple(relay or ()),
                "market": market,
                "keystore": keystore,
                "identity": identity,
                "executor": executor,
                "status_port": status_port,
            },
        )
        if settings.mode == "live" and not send_real_transactions:
            fail(f"--mode live sends real transactions; add {CONFIRM_FLAG} to confirm")
        engine = build_engine(settings, params=load_params_file(params))
    except WorkbenchError as exc:
        fail(str(exc))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready(server: object) -> None:
            url = getattr(server, "url", None)
            console.print(
                f"[bold]{settings.mode}[/bold] {settings.strategy} on {redact_url(settings.rpc)}, cap "
                f"{settings.capital_cap / 10**18:g} WETH"
                + (f"; status {url}/status" if url else "")
            )

        info = await run_live(engine, settings, stop=stop, until_block=until_block, on_ready=ready)
        s = engine.status()
        console.print(
            f"run {info.id}: blocks {info.first_block}-{s['head']}, {s['opportunities']} "
            f"opportunities, {s['submitted']} submitted, {s['landed']} landed, realised "
            f"{s['realised_net_wei']} wei; report: workbench report {info.id}"
        )

    try:
        asyncio.run(main())
    except WorkbenchError as exc:
        fail(_message(exc), code=1)
    except TimeoutError:  # the WebSocket subscription never came up
        fail(
            f"the node at {redact_url(settings.ws or '')} did not answer in time; check that it is up",
            code=1,
        )


def _message(exc: BaseException) -> str:
    """``exc``'s message, after the error it interrupted if any: a run stopped by an error is
    then refused as finished (blocks missing), and the first error is the one that matters."""
    earlier = None if exc.__suppress_context__ else exc.__context__
    if earlier is None:
        return str(exc)
    return f"{type(earlier).__name__}: {earlier}\n(then: {exc})"
