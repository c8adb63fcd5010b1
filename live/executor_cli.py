"""``workbench executor deploy``: our Executor deployed for live trading (``live.executor_deploy``)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from workbench.errors import WorkbenchError

executor_app = typer.Typer(help="Our Executor contract on a real chain.", no_args_is_help=True)


@executor_app.command("deploy")
def deploy(
    rpc: Annotated[
        str,
        typer.Option(
            "--rpc", envvar="WORKBENCH_RPC_URL", show_envvar=True, help="the node's JSON-RPC URL"
        ),
    ],
    keystore: Annotated[Path, typer.Option("--keystore", help="funds keystore: the owner")],
    chain_id: Annotated[int, typer.Option("--chain-id", help="the chain meant (checked)")],
    weth: Annotated[
        str | None, typer.Option("--weth", help="the wrapped native token (default: the chain's)")
    ] = None,
    max_cost_eth: Annotated[
        str, typer.Option("--max-cost-eth", help="most ETH the deployment may cost")
    ] = "0.05",
) -> None:
    """Deploy an Executor owned by the keystore's key; prints its address (for --executor).

    The keystore's password comes from WORKBENCH_KEYSTORE_PASSWORD or a prompt."""
    from live.executor_deploy import deploy_executor
    from live.signer import load_signer
    from workbench.cli.common import console, fail
    from workbench.networks import find_network
    from workbench.rpc import RpcClient, RpcTransportError
    from workbench.rpc.redact import redact_url

    try:
        cap = int(Decimal(max_cost_eth) * 10**18)
    except InvalidOperation:
        fail(f"--max-cost-eth must be a decimal amount of ETH, got {max_cost_eth!r}")
    network = find_network(chain_id)
    wrapper = weth or (network.wrapper if network else None)
    if wrapper is None:
        fail(f"chain {chain_id} has no known wrapped native token: give --weth ADDRESS")
    try:
        signer = load_signer(keystore)
        with RpcClient(rpc) as client:
            done = deploy_executor(client, signer, wrapper, chain_id=chain_id, max_cost_wei=cap)
    except RpcTransportError:
        fail(f"the node at {redact_url(rpc)} did not answer", code=1)
    except WorkbenchError as exc:
        fail(str(exc), code=1)
    console.print(json.dumps(done), soft_wrap=True, markup=False)
