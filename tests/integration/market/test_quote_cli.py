"""`workbench pool-state` then `workbench quote` on a real Anvil market: equal to the chain."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from workbench.chain.abi import decode_result, encode_call
from workbench.chain.anvil import Anvil
from workbench.chain.market_spec import DeployedMarket
from workbench.chain.transact import Sender
from workbench.cli import app

E18 = 10**18
runner = CliRunner()


def test_pool_state_then_quote_matches_quoter_and_router(
    market: tuple[Anvil, DeployedMarket], tmp_path: Path
) -> None:
    node, m = market
    s = Sender(node.rpc, m.deployer)
    tka = m.token("TKA")
    for pool, name in ((m.v3_pools["WETH/TKA/3000"], "v3"), (m.v2_pairs["uniswap:WETH/TKA"], "v2")):
        out = tmp_path / f"{name}.json"
        result = runner.invoke(
            app, ["pool-state", "--rpc", node.url, "--pool", pool, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(out.read_text())["kind"] == f"uniswap_{name}"
        quoted = runner.invoke(
            app,
            [
                "quote",
                "--pool-state",
                str(out),
                "--token-in",
                m.weth.lower(),
                "--amount-in",
                str(E18),
            ],
        )
        assert quoted.exit_code == 0, quoted.output
        answer = json.loads(quoted.stdout)
        if name == "v3":
            data = encode_call("QuoterV2", "quoteExactInputSingle", [(m.weth, tka, E18, 3000, 0)])
            assert m.v3_quoter
            chain = decode_result("QuoterV2", "quoteExactInputSingle", s.call(m.v3_quoter, data))[0]
        else:
            data = encode_call("UniswapV2Router02", "getAmountsOut", [E18, [m.weth, tka]])
            chain = decode_result(
                "UniswapV2Router02", "getAmountsOut", s.call(m.v2_routers["uniswap"], data)
            )[0][-1]
        assert answer == {"amount_in": E18, "amount_out": chain, "partial": False}


def test_pool_state_errors_are_clear(market: tuple[Anvil, DeployedMarket]) -> None:
    node, m = market
    not_a_pool = runner.invoke(
        app, ["pool-state", "--rpc", node.url, "--pool", m.weth], terminal_width=300
    )
    assert not_a_pool.exit_code == 2 and "answers neither" in not_a_pool.output
    bad_block = runner.invoke(
        app, ["pool-state", "--rpc", node.url, "--pool", m.weth, "--block", "tip"]
    )
    assert bad_block.exit_code == 2 and "--block" in bad_block.output
    down = runner.invoke(
        app, ["pool-state", "--rpc", "http://127.0.0.1:9", "--pool", m.weth], terminal_width=300
    )
    assert down.exit_code == 2 and "127.0.0.1:9" in down.output
