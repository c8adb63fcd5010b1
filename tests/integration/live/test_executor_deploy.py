"""`workbench executor deploy` on an Anvil chain: the Executor it deploys is the one the engine
installs (same runtime code), owned by the keystore's key, and its cost is within the cap; a
wrong chain, a token without code, a cap below today's fees and an unfunded key send nothing.
The key and the password never show in the output."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from live.signer import DEFAULT_PASSWORD_ENV, create_keystore
from workbench.chain.abi import decode_result, encode_call, encode_deploy
from workbench.chain.anvil import Anvil
from workbench.chain.contracts import artifact
from workbench.chain.executor_install import executor_runtime
from workbench.cli import app

PASSWORD = "correct horse battery staple"
KEY = "0x" + "5d" * 32
runner = CliRunner()
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(DEFAULT_PASSWORD_ENV, raising=False)
    keystore = tmp_path / "funds.json"
    owner = create_keystore(keystore, PASSWORD, KEY, iterations=2**10)
    with Anvil() as node:
        tx = node.rpc.call(
            "eth_sendTransaction",
            [
                {
                    "from": node.rpc.call("eth_accounts")[0],
                    "data": "0x" + encode_deploy(artifact("WETH9")).hex(),
                }
            ],
        )
        deadline = time.monotonic() + 30  # Anvil mines the deployment on its own time
        while (receipt := node.rpc.call("eth_getTransactionReceipt", [tx])) is None:
            assert time.monotonic() < deadline, "the WETH deployment was never mined"
            time.sleep(0.05)
        weth = receipt["contractAddress"]
        yield node, keystore, owner, weth


def _deploy(node: Anvil, keystore: Path, *extra: str):
    args = ["executor", "deploy", "--rpc", node.url, "--keystore", str(keystore), *extra]
    # set for each run: a run reads it once and removes it from the environment
    result = runner.invoke(app, args, env={DEFAULT_PASSWORD_ENV: PASSWORD})
    assert PASSWORD not in result.output and KEY[2:] not in result.output.lower()
    return result


def test_deploys_the_engines_executor_owned_by_the_key(chain) -> None:
    node, keystore, owner, weth = chain
    node.set_balance(owner, 10**18)
    result = _deploy(node, keystore, "--chain-id", "31337", "--weth", weth)
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    code = node.rpc.call("eth_getCode", [done["executor"], "latest"])
    assert code == executor_runtime(node, owner, weth)
    answer = node.rpc.call(
        "eth_call",
        [{"to": done["executor"], "data": "0x" + encode_call("Executor", "owner").hex()}],
    )
    assert decode_result("Executor", "owner", answer)[0].lower() == owner.lower()
    assert 0 < done["cost_wei"] <= 5 * 10**16 and done["owner"].lower() == owner.lower()


def test_nothing_is_sent_on_bad_input(chain) -> None:
    node, keystore, owner, weth = chain
    wrong_chain = _deploy(node, keystore, "--chain-id", "1", "--weth", weth)
    assert wrong_chain.exit_code == 1 and "serves chain 31337, not 1" in wrong_chain.output
    no_code = _deploy(node, keystore, "--chain-id", "31337", "--weth", "0x" + "12" * 20)
    assert no_code.exit_code == 1 and "has no code" in no_code.output
    unfunded = _deploy(node, keystore, "--chain-id", "31337", "--weth", weth)
    assert unfunded.exit_code == 1 and "fund it first" in unfunded.output
    node.set_balance(owner, 10**18)
    dear = _deploy(node, keystore, "--chain-id", "31337", "--weth", weth, "--max-cost-eth", "0")
    assert dear.exit_code == 1 and "above --max-cost-eth" in dear.output
    assert int(node.rpc.call("eth_getTransactionCount", [owner, "latest"]), 16) == 0
