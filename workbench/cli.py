"""The ``workbench`` command (typer). Thin: parses arguments and calls library functions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn, TextIO

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="MEV research and execution workbench.", no_args_is_help=True, add_completion=False
)
console = Console()
console_err = Console(stderr=True)


@app.callback()
def _main() -> None:
    """MEV research and execution workbench for EVM chains."""


@app.command()
def doctor() -> None:
    """Print tool versions and check that each works; exit 1 with what to do if not."""
    from workbench.doctor import root_hint, run_checks

    checks = run_checks()
    table = Table(title=f"workbench doctor ({root_hint()})")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail")
    for c in checks:
        status = "[green]ok[/green]" if c.ok else "[red]FAIL[/red]"
        table.add_row(c.name, status, c.detail if c.ok else f"{c.detail}\n→ {c.fix}")
    console.print(table)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        console.print(f"[red]{len(failed)} check(s) failed: {', '.join(failed)}[/red]")
        raise typer.Exit(1)
    console.print("[green]all checks passed[/green]")


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
            _fail("--batch takes its requests from the file; drop the other options")
        with sys.stdin if str(batch) == "-" else _open(batch) as lines:
            for line in quote_lines(lines):
                sys.stdout.write(line + "\n")
        return
    if pool_state is None or token_in is None:
        _fail(
            "give --pool-state STATE.json --token-in ADDR and --amount-in N or --amount-out N (or --batch FILE)"
        )
    try:
        request = {
            "pool": json.loads(_open(pool_state).read()),
            "token_in": token_in,
            "token_out": token_out,
            "amount_in": amount_in,
            "amount_out": amount_out,
            "sqrt_price_limit_x96": sqrt_price_limit_x96,
        }
        print(json.dumps(quote_request(request)))
    except json.JSONDecodeError as exc:
        _fail(f"{pool_state} is not valid JSON: {exc}")
    except (MarketError, ArithmeticError) as exc:
        print(json.dumps({"error": str(exc)}))
        raise typer.Exit(1) from None


@app.command("pool-state")
def pool_state(
    rpc: Annotated[str, typer.Option("--rpc", help="node JSON-RPC URL")],
    pool: Annotated[str, typer.Option("--pool", help="pool address")],
    block: Annotated[str, typer.Option("--block", help="block number or 'latest'")] = "latest",
    kind: Annotated[str | None, typer.Option("--kind", help="v2 or v3 (default: detect)")] = None,
    fee: Annotated[
        int, typer.Option("--fee", help="V2 fee in pips when the pair does not say")
    ] = 3000,
    out: Annotated[
        Path | None, typer.Option("--out", help="write STATE.json here (default: stdout)")
    ] = None,
) -> None:
    """Read a pool's state from a node (one batched round per step) and write STATE.json."""
    import json

    from workbench.chain.rpc import RpcClient
    from workbench.errors import MarketError, RpcError, RpcTransportError
    from workbench.market.fetch import fetch_pool_state
    from workbench.market.state_json import pool_to_json

    at: int | str = block
    if block != "latest":
        if not block.isdigit():
            _fail(f"--block must be a block number or 'latest', got {block!r}")
        at = int(block)
    if kind not in (None, "v2", "v3"):
        _fail(f"--kind must be v2 or v3, got {kind!r}")
    try:
        with RpcClient(rpc) as client:
            state = fetch_pool_state(client, pool, block=at, kind=kind, fee=fee)  # type: ignore[arg-type]
    except (MarketError, RpcError, RpcTransportError) as exc:
        _fail(str(exc))
    text = json.dumps(pool_to_json(state), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)  # never a half-written STATE.json
    console_err.print(f"wrote {out}")


def _open(path: Path) -> TextIO:
    try:
        return path.open()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")


def _fail(message: str) -> NoReturn:
    console_err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


if __name__ == "__main__":
    app()
