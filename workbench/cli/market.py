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
