"""The ``workbench`` command (typer). Thin: parses arguments and calls library functions."""

from __future__ import annotations

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
    pool_state: Annotated[Path | None, typer.Option("--pool-state", help="STATE.json of one pool")] = None,
    token_in: Annotated[str | None, typer.Option("--token-in", help="address of the token sold")] = None,
    amount_in: Annotated[str | None, typer.Option("--amount-in", help="exact input (base units)")] = None,
    amount_out: Annotated[str | None, typer.Option("--amount-out", help="exact output (base units)")] = None,
    sqrt_price_limit_x96: Annotated[
        str | None, typer.Option("--sqrt-price-limit-x96", help="V3 price limit (Q64.96)")
    ] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help="REQUESTS.jsonl, one request per line ('-' = stdin)")
    ] = None,
) -> None:
    """Exact quote from a pool state: one JSON object, or one JSON line per batch request."""
    import json
    import sys

    from workbench.errors import MarketError
    from workbench.market.quote import quote_lines, quote_request

    if batch is not None:
        if pool_state or token_in or amount_in or amount_out or sqrt_price_limit_x96:
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
