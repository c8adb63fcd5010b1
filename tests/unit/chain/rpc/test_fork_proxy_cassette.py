"""A cassette answers an account in either form a fork asks it in (Foundry picks
``eth_getAccountInfo`` or balance, nonce and code apart on its own time), and lists what it lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workbench.errors import ConfigError
from workbench.rpc.fork_proxy import ForkProxy

ACCOUNT = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
BLOCK = "0x257"
PARTS = {"eth_getBalance": "0x949f", "eth_getTransactionCount": "0x1", "eth_getCode": "0x6080"}
INFO = {"balance": "0x949f", "nonce": "0x1", "code": "0x6080"}


def _cassette(path: Path, answers: dict[tuple[str, str], Any]) -> Path:
    body = {
        json.dumps([m, [a, BLOCK]], separators=(",", ":")): {"result": r}
        for (m, a), r in answers.items()
    }
    path.write_text(json.dumps({"format": 1, "answers": body}))
    return path


def _ask(proxy: ForkProxy, method: str, account: str = ACCOUNT) -> dict[str, Any]:
    reply: dict[str, Any] = proxy.answer(
        {"jsonrpc": "2.0", "id": 7, "method": method, "params": [account, BLOCK]}
    )
    assert reply["id"] == 7
    return reply


def test_parts_answer_an_account_info(tmp_path: Path) -> None:
    cassette = _cassette(tmp_path / "c.json", {(m, ACCOUNT): r for m, r in PARTS.items()})
    proxy = ForkProxy(None, replay=cassette)
    assert _ask(proxy, "eth_getAccountInfo")["result"] == INFO
    assert _ask(proxy, "eth_getCode")["result"] == "0x6080"
    assert not proxy.missing


def test_an_account_info_answers_its_parts(tmp_path: Path) -> None:
    cassette = _cassette(tmp_path / "c.json", {("eth_getAccountInfo", ACCOUNT): INFO})
    proxy = ForkProxy(None, replay=cassette)
    assert {m: _ask(proxy, m)["result"] for m in PARTS} == PARTS
    assert not proxy.missing


def test_incomplete_parts_answer_no_account_info_and_the_lack_is_listed(tmp_path: Path) -> None:
    cassette = _cassette(tmp_path / "c.json", {("eth_getBalance", ACCOUNT): "0x949f"})
    proxy = ForkProxy(None, replay=cassette)
    reply = _ask(proxy, "eth_getAccountInfo")
    assert (
        "result" not in reply
        and "has no answer for eth_getAccountInfo" in reply["error"]["message"]
    )
    assert proxy.missing == [f'eth_getAccountInfo ["{ACCOUNT}", "{BLOCK}"]']
    assert proxy.stats.failed == 1


def test_a_recording_saves_both_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rec.json"
    proxy = ForkProxy("http://127.0.0.1:9/", record=path)
    upstream = {**PARTS, "eth_getAccountInfo": INFO}
    monkeypatch.setattr(proxy, "_fetch", lambda method, params: {"result": upstream[method]})
    for method in PARTS:
        _ask(proxy, method)
    proxy.save()
    replayed = ForkProxy(None, replay=path)
    assert _ask(replayed, "eth_getAccountInfo")["result"] == INFO
    saved = json.loads(path.read_text())["answers"]
    assert len(saved) == 4  # the three parts and the info derived from them


def test_cassette_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the cassette"):
        ForkProxy(None, replay=tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not a cassette"):
        ForkProxy(None, replay=tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="exclude each other"):
        ForkProxy(None, record=tmp_path / "a", replay=tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="either an archive node URL or a cassette"):
        ForkProxy("http://127.0.0.1:9/", replay=tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="must be positive"):
        ForkProxy("http://127.0.0.1:9/", rate_cu=0)
