"""`workbench quote` and `workbench pool-state`: exact quotes from pool states."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.common import app, console_err, fail, open_text


@app.command()
def quote(
    pool_state: Annotated[
        Path | None, typer.Option("--pool-state", help="STATE.json of one pool")
    ] = None,
    token_in: Annotated[
        str | None, typer.Option("--token-in", help="address of the token sold")
    ] = None,
    token_out: Annotated[
        str | None, typer.Option("--token-out", help="token bought (pools of more than two tokens)")
    ] = None,
    amount_in: Annotated[
        str | None, typer.Option("--amount-in", help="exact input (base units)")
    ] = None,
    amount_out: Annotated[
        str | None, typer.Option("--amount-out", help="exact output (base units)")
    ] = None,
    sqrt_price_limit_x96: Annotated[
        str | None, typer.Option("--sqrt-price-limit-x96", help="V3 price limit (Q64.96)")
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="REQUESTS.jsonl, one request per line ('-' = stdin)"),
    ] = None,
) -> None:
    """Exact quote from a pool state: one JSON object, or one JSON line per batch request."""
    import json

    from workbench.errors import MarketError
    from workbench.market.quote import quote_lines, quote_request

    if batch is not None:
        if pool_state or token_in or token_out or amount_in or amount_out or sqrt_price_limit_x96:
            fail("--batch takes its requests from the file; drop the other options")
        with sys.stdin if str(batch) == "-" else open_text(batch) as lines:
            for line in quote_lines(lines):
                sys.stdout.write(line + "\n")
        return
    if pool_state is None or token_in is None:
        fail(
            "give --pool-state STATE.json --token-in ADDR and --amount-in N or --amount-out N (or --batch FILE)"
        )
    try:
        request = {
            "pool": json.loads(open_text(pool_state).read()),
            "token_in": token_in,
            "token_out": token_out,
            "amount_in": amount_in,
            "amount_out": amount_out,
            "sqrt_price_limit_x96": sqrt_price_limit_x96,
        }
        print(json.dumps(quote_request(request)))
    except json.JSONDecodeError as exc:
        fail(f"{pool_state} is not valid JSON: {exc}")
    except (MarketError, ArithmeticError) as exc:
        print(json.dumps({"error": str(exc)}))
        raise typer.Exit(1) from None


@app.command("pool-state")
def pool_state(
    rpc: Annotated[str, typer.Option("--rpc", help="node JSON-RPC URL")],
    pool: Annotated[str, typer.Option("--pool", help="pool address")],
    block: Annotated[str, typer.Option("--block", help="block number or 'latest'")] = "latest",
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="a venue's fetch kind, e.g. v2 or v3 (default: detect)"),
    ] = None,
    fee: Annotated[
        int, typer.Option("--fee", help="V2 fee in pips when the pair does not say")
    ] = 3000,
    out: Annotated[
        Path | None, typer.Option("--out", help="write STATE.json here (default: stdout)")
    ] = None,
) -> None:
    """Read a pool's state from a node (one batched round per step) and write STATE.json."""
    import json

    from workbench.errors import MarketError, RpcError, RpcTransportError
    from workbench.market.fetch import fetch_pool_state
    from workbench.market.state_json import pool_to_json
    from workbench.rpc import RpcClient

    at: int | str = block
    if block != "latest":
        if not block.isdigit():
            fail(f"--block must be a block number or 'latest', got {block!r}")
        at = int(block)
    from workbench.market.fetch import READERS

    if kind is not None and kind not in READERS:
        fail(f"--kind must be one of {', '.join(READERS)}, got {kind!r}")
    try:
        with RpcClient(rpc) as client:
            state = fetch_pool_state(client, pool, block=at, kind=kind, fee=fee)
    except (MarketError, RpcError, RpcTransportError) as exc:
        fail(str(exc))
    text = json.dumps(pool_to_json(state), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)  # never a half-written STATE.json
    console_err.print(f"wrote {out}")


market_app = typer.Typer(help="Find the market of a chain.", no_args_is_help=True)
app.add_typer(market_app, name="market")


def _factory(text: str) -> tuple[str, str]:
    name, sep, address = text.partition("=")
    if not sep or not name or not address.startswith("0x") or len(address) != 42:
        fail(f"--v2-factory takes NAME=0xADDRESS, got {text!r}")
    return name, address


@market_app.command("discover")
def discover(
    rpc: Annotated[
        str,
        typer.Option(
            "--rpc",
            envvar="WORKBENCH_RPC_URL",
            show_envvar=True,
            help="node JSON-RPC URL (an archive node for a past block)",
        ),
    ],
    block: Annotated[int, typer.Option("--block", min=0, help="the block the market is read at")],
    out: Annotated[Path, typer.Option("--out", help="market.json to write")],
    min_liquidity_weth: Annotated[
        str,
        typer.Option("--min-liquidity-weth", help="least WETH value a pool holds (decimal)"),
    ] = "10",
    weth: Annotated[
        str | None, typer.Option("--weth", help="the wrapped native token (default: the chain's)")
    ] = None,
    v2_factory: Annotated[
        list[str] | None,
        typer.Option("--v2-factory", help="NAME=ADDRESS of a V2-style factory (repeatable)"),
    ] = None,
    v3_factory: Annotated[
        str | None, typer.Option("--v3-factory", help="a Uniswap V3 factory's address")
    ] = None,
    from_block: Annotated[
        int, typer.Option("--from-block", min=0, help="first block searched for pools")
    ] = 0,
) -> None:
    """Write the market at --block: the V2 pairs and V3 pools of the chain's known factories
    (or those given) holding at least --min-liquidity-weth, their tokens and decimals.

    Example: workbench market discover --rpc $NODE --block 21000000 --out market.json
    """
    from decimal import Decimal, InvalidOperation

    from workbench.cli.common import progress_bar
    from workbench.errors import ConfigError, MarketError, RpcError, RpcTransportError
    from workbench.market.discover import discover_market
    from workbench.networks import find_network
    from workbench.rpc import RpcClient
    from workbench.rpc.redact import redact_url

    if from_block > block:
        fail(f"--from-block {from_block} is after --block {block}")
    try:
        min_liquidity_wei = int(Decimal(min_liquidity_weth) * 10**18)
    except (InvalidOperation, ValueError, OverflowError):  # not a number, NaN, infinity
        min_liquidity_wei = -1
    if min_liquidity_wei < 0:
        fail(f"--min-liquidity-weth must be a decimal amount >= 0, got {min_liquidity_weth!r}")
    try:
        with RpcClient(rpc) as client:
            chain_id = int(client.call("eth_chainId"), 16)
            head = int(client.call("eth_blockNumber"), 16)
            if block > head:
                fail(f"--block {block} is after the node's head {head}")
            network = find_network(chain_id)
            factories = dict(_factory(f) for f in v2_factory or ())
            if v3_factory:
                factories["uniswap_v3"] = v3_factory
            if not factories:
                factories = dict(network.factories) if network else {}
            if not factories:
                fail(
                    f"the workbench knows no factories of chain {chain_id}: give them with "
                    "--v2-factory NAME=ADDRESS and --v3-factory ADDRESS"
                )
            wrapper = weth or (network.wrapper if network else None)
            if wrapper is None:
                fail(f"chain {chain_id} has no known wrapped native token: give --weth ADDRESS")
            with progress_bar() as progress:
                task = progress.add_task("discover", total=None)

                def on_progress(step: str, done: int, total: int) -> None:
                    progress.update(task, description=step, completed=done, total=total)

                market = discover_market(
                    client,
                    chain_id=chain_id,
                    block=block,
                    weth=wrapper,
                    factories=factories,
                    min_liquidity_wei=min_liquidity_wei,
                    from_block=from_block,
                    on_progress=on_progress,
                )
    except (MarketError, ConfigError, RpcError) as exc:
        fail(str(exc))
    except RpcTransportError as exc:
        fail(f"the node at {redact_url(rpc)} did not answer: {exc}")
    market.save(out)
    console_err.print(
        f"wrote {out}: {len(market.v2_pairs)} V2 pairs, {len(market.v3_pools)} V3 pools, "
        f"{len(market.tokens) + 1} tokens at block {block}",
        soft_wrap=True,
        markup=False,
    )
