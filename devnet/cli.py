"""`workbench devnet generate` / `rebuild` / `up`: deterministic devnet histories on a local
Anvil, and the devnet played live. Registered on the workbench's command line through the
``workbench.commands`` entry point (the workbench never imports ``devnet``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from devnet.config import DEFAULT_BLOCKS, DEFAULT_SEED
from workbench.cli.common import console, fail

devnet_app = typer.Typer(
    help="Deterministic devnet histories on a local Anvil.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(devnet_app, name="devnet")


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,  # gone when done: the summary or the error is what stays
    )


@devnet_app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="directory to write (must be empty)")],
    blocks: Annotated[
        int, typer.Option("--blocks", min=1, help="blocks of history")
    ] = DEFAULT_BLOCKS,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="drives every key and draw")
    ] = DEFAULT_SEED,
    force: Annotated[bool, typer.Option("--force", help="replace a non-empty OUT")] = False,
) -> None:
    """Deploy the default market on Anvil, simulate traders and bots, write the dataset."""
    from devnet import DevnetConfig
    from devnet import generate as run
    from workbench.errors import WorkbenchError

    try:
        config = DevnetConfig(seed=seed, blocks=blocks)
        with _bar() as bar:
            task = bar.add_task("blocks", total=blocks)
            info = run(
                out, config, force=force, progress=lambda i, _: bar.update(task, completed=i)
            )
    except WorkbenchError as exc:
        fail(str(exc))
    console.print(_summary(info, out))


def _summary(info: dict[str, Any], out: Path) -> Table:
    stats = info["stats"]
    table = Table(title=f"devnet {out} (seed {info['seed']})", show_header=False)
    first, last = info["blocks"]
    fees = stats["base_fee_wei"]
    rows = [
        ("blocks", f"{first}-{last} ({last - first + 1}), genesis {info['genesis']['block_hash']}"),
        ("transactions", f"{stats['transactions']} ({stats['reverted']} reverted)"),
        ("swaps", ", ".join(f"{k} {v}" for k, v in stats["swaps"].items())),
        ("arbitrage", ", ".join(f"{k} {v}" for k, v in stats["arbitrage_txs"].items()) or "none"),
        ("coinbase bids", f"{int(stats['coinbase_bids_wei']) / 10**18:.4f} ETH"),
        ("base fee", f"{int(fees['min']) / 1e9:.2f}-{int(fees['max']) / 1e9:.2f} gwei"),
        (
            "mempool",
            f"{stats['mempool']['sent']} sent, {stats['mempool']['included_after_their_slot']} waited a block or more",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@devnet_app.command()
def rebuild(
    directory: Annotated[Path, typer.Argument(help="a directory written by `devnet generate`")],
    blocks: Annotated[
        int | None, typer.Option("--blocks", min=1, help="only the first N blocks")
    ] = None,
) -> None:
    """Replay the history from its genesis state on a fresh Anvil; check every block hash."""
    from devnet import rebuild as replay
    from workbench.errors import WorkbenchError

    try:
        with _bar() as bar:
            task = bar.add_task("rebuild", total=None)
            done = replay(
                directory,
                blocks=blocks,
                progress=lambda i, n: bar.update(task, completed=i, total=n),
            )
    except WorkbenchError as exc:
        fail(str(exc))
    console.print(
        f"[green]identical[/green]: blocks {done.first_block}-{done.last_block}, "
        f"{done.transactions} transactions, last hash {done.last_hash}"
    )


@devnet_app.command()
def up(
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset", help="a devnet dataset (default: the devnet default, built if missing)"
        ),
    ] = None,
    block_time: Annotated[
        float, typer.Option("--block-time", min=0.05, help="seconds per block")
    ] = 12.0,
    from_block: Annotated[
        int | None,
        typer.Option("--from-block", help="first block played live (default: the first)"),
    ] = None,
    searcher: Annotated[
        list[str] | None,
        typer.Option("--searcher", help="address given ETH and a funded Executor (repeatable)"),
    ] = None,
    searcher_weth: Annotated[
        int, typer.Option("--searcher-weth", min=0, help="WETH in each searcher's Executor")
    ] = 100,
    port: Annotated[
        int | None, typer.Option("--port", help="Anvil's port (default: any free)")
    ] = None,
    relay_port: Annotated[
        int | None, typer.Option("--relay-port", help="the relay's port (default: any free)")
    ] = None,
    info: Annotated[
        Path, typer.Option("--info", help="where to write the URLs and addresses (JSON)")
    ] = Path("devnet-up.json"),
    include_bundles: Annotated[
        bool,
        typer.Option(
            "--include-bundles/--no-include-bundles",
            help="put the best bundles at the top of each block (--no-include-bundles: the relay "
            "takes and records them, every block stays the recorded one)",
        ),
    ] = True,
) -> None:
    """Run the devnet live: its recorded traders on a wall clock, and a local builder relay."""
    import json

    from devnet.default import ensure_default_dataset
    from devnet.live_node import DevnetNode
    from workbench.errors import WorkbenchError
    from workbench.files import write_atomically

    try:
        node = DevnetNode(
            dataset or ensure_default_dataset(),
            block_time=block_time,
            first_block=from_block,
            searchers=searcher or (),
            searcher_weth=searcher_weth * 10**18,
            rpc_port=port,
            relay_port=relay_port,
            include_bundles=include_bundles,
        )
        node.start()
    except (WorkbenchError, ValueError, OSError) as exc:
        fail(str(exc), 1)
    try:
        up_info = {
            "rpc_url": node.rpc_url,
            "ws_url": node.ws_url,
            "relay_url": node.relay_url,
            "chain_id": node.chain_id,
            "market_file": str(node.market_file.resolve()),
            "executors": node.executors,
            "first_block": node.first_block,
        }
        write_atomically(info, json.dumps(up_info, indent=2) + "\n")
        for key, value in up_info.items():
            console.print(f"{key:12} {value}", soft_wrap=True)
        console.print(
            f"try: workbench live --rpc {node.rpc_url} --ws {node.ws_url}"
            f" --market {up_info['market_file']} --strategy backrun_arb --capital-cap 2",
            soft_wrap=True,
        )
        number = node.first_block
        while True:
            b = node.wait_for_block(number, timeout=max(60.0, 10 * block_time))
            console.print(
                f"block {b.number} {b.hash[:12]}… {b.tx_count} txs, "
                f"{len(b.bundles)} bundles paying {b.payment / 10**18:.6f} ETH"
                + (f", {len(b.rejected)} rejected" if b.rejected else "")
                + (f", {b.carried} carried, {b.skipped} skipped" if b.carried or b.skipped else "")
            )
            number += 1
    except KeyboardInterrupt:
        console.print("stopping")
    except WorkbenchError as exc:
        node.stop(raise_error=False)
        fail(f"the devnet stopped: {exc}", 1)
    finally:
        node.stop(raise_error=False)
