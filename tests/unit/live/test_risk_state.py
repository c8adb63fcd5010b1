"""The risk state file: what a restart reads back, and a corrupt file refused with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from live.relays import BundleRequest
from live.risk_state import RiskState, encode, load, risk_state_path, save
from live.submit import Sent
from workbench.errors import ConfigError
from workbench.execution.bundle import SignedTx

ACCOUNT = "0x" + "ab" * 20
RAW = "0x02" + "11" * 100


def sent(block: int) -> Sent:
    tx = SignedTx(raw=RAW, hash="0x" + "22" * 32, sender=ACCOUNT, nonce=7, gas_limit=360_000)
    bundle = BundleRequest(txs=("0x02" + "33" * 50, RAW), block=block, replacement_uuid="u-1")
    return Sent("route@0xtarget", block, -12345678901234567890123, tx, bundle, (), 99)


def test_a_saved_state_reads_back(tmp_path: Path) -> None:
    path = risk_state_path(tmp_path, 1, ACCOUNT)
    assert load(path) is None  # none yet: a first start
    risk = {"in_flight": [["k", 11, "1", "2", 3]], "losses": {"19000": "5"}}
    save(path, encode(RiskState(risk, {11: sent(11)})))
    got = load(path)
    assert got is not None and got.risk == risk
    (back,) = got.in_flight.values()
    want = sent(11)
    assert (back.key, back.target_block, back.expected_net, back.tx) == (
        want.key,
        want.target_block,
        want.expected_net,
        want.tx,
    )
    assert back.bundle.txs == want.bundle.txs and back.bundle.replacement_uuid == "u-1"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "unreadable"),
        (b'{"version": 9}', "not a version-1"),
        (b'{"version": 1}', "malformed"),
    ],
)
def test_a_bad_file_is_refused_with_the_fix(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "risk.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=f"{why}.*move it aside"):
        load(path)
