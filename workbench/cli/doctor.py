"""`workbench doctor`: the toolchain's versions, and whether each tool works."""

from __future__ import annotations

import typer
from rich.table import Table

from workbench.cli.common import app, console


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
