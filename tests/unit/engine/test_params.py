"""Params files: an exact, atomic round trip, and a ConfigError naming the file and the problem
for everything that is not a params file."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from workbench import files as files_module
from workbench.engine.params import VERSION, Params, config_of, load_params, save_params
from workbench.errors import ConfigError
from workbench.scoring.inclusion import InclusionModel

MODEL = InclusionModel(
    coef=(-1.2345678901234567, 0.1 + 0.2, 2.0000000000000004),
    shares_bps=(0, 2_999, 5_000, 5_000),
    samples=1234,
)
BIG = 10**30 + 1  # beyond a float's 53 bits: must survive as an integer


def tuned() -> Params:
    return Params(
        strategy="cyclic_arb",
        config={
            "bid_policy": "expected_net",
            "bid_bps": 4_321,
            "min_net_profit": BIG,
            "max_input": 2**200 + 3,
            "slippage_bps": 75,
        },
        inclusion=MODEL,
        tuning={"study": "cyclic_arb-1-99-abc", "trials": 20, "train_blocks": [1, 70]},
    )


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def valid_json() -> dict[str, Any]:
    return json.loads(json.dumps(tuned().to_json()))


def test_round_trip_is_exact(tmp_path: Path) -> None:
    original = tuned()
    path = save_params(original, tmp_path / "nested" / "dir" / "params.json")
    assert path == tmp_path / "nested" / "dir" / "params.json"
    loaded = load_params(path)
    assert loaded == original
    assert loaded.config["min_net_profit"] == BIG and type(loaded.config["min_net_profit"]) is int
    assert loaded.config["max_input"] == 2**200 + 3
    assert loaded.inclusion == MODEL and loaded.inclusion.coef == MODEL.coef
    assert dict(loaded.tuning) == dict(original.tuning)
    assert json.loads(path.read_text())["version"] == VERSION
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_config_of_fills_in_the_defaults(tmp_path: Path) -> None:
    loaded = load_params(save_params(tuned(), tmp_path / "p.json"))
    full = config_of(loaded)
    assert full["bid_bps"] == 4_321 and full["min_net_profit"] == BIG
    assert full["max_hops"] == 3 and full["gas_base"] == 60_000  # defaults, not in the file


def test_a_baseline_without_a_model_round_trips(tmp_path: Path) -> None:
    baseline = Params(strategy="backrun_arb", config={})
    loaded = load_params(save_params(baseline, tmp_path / "p.json"))
    assert loaded == baseline and loaded.inclusion is None and dict(loaded.tuning) == {}


def test_saving_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    save_params(Params(strategy="cyclic_arb", config={"bid_bps": 1}), path)
    save_params(tuned(), path)
    assert load_params(path) == tuned()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json"]


def test_a_failed_save_keeps_the_old_file_and_removes_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "params.json"
    save_params(Params(strategy="cyclic_arb", config={"bid_bps": 1}), path)
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        assert Path(src).parent == tmp_path and Path(src).read_text().startswith("{")
        raise OSError("disk full")

    monkeypatch.setattr(files_module.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_params(tuned(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json"]


def test_constructing_params_validates_the_config() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'sandwich'"):
        Params(strategy="sandwich", config={})
    with pytest.raises(ConfigError, match="bid_bps"):
        Params(strategy="cyclic_arb", config={"bid_bps": 10_000})


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=rf"params file {re.escape(str(path))} does not exist"):
        load_params(path)


@pytest.mark.parametrize("text", ["{not json", "", '{"version": 1,'])
def test_invalid_json(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(
        ConfigError, match=rf"params file {re.escape(str(path))} is not readable JSON"
    ):
        load_params(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(ConfigError, match="is not readable JSON"):
        load_params(path)


@pytest.mark.parametrize(
    "data",
    [
        {**valid_json(), "version": 2},
        {**valid_json(), "version": "1"},
        {k: v for k, v in valid_json().items() if k != "version"},
        [valid_json()],
        "params",
    ],
)
def test_a_wrong_version_or_shape(tmp_path: Path, data: Any) -> None:
    path = write(tmp_path / "p.json", data)
    with pytest.raises(
        ConfigError, match=rf"{re.escape(str(path))} is not a version-1 params file.*workbench tune"
    ):
        load_params(path)


@pytest.mark.parametrize(
    "change",
    [{"strategy": None}, {"strategy": 7}, {"config": None}, {"config": [["bid_bps", 1]]}],
)
def test_missing_strategy_or_config(tmp_path: Path, change: dict[str, Any]) -> None:
    path = write(tmp_path / "p.json", {**valid_json(), **change})
    with pytest.raises(ConfigError, match="needs a strategy name and a config object"):
        load_params(path)


def test_an_unknown_strategy(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", {**valid_json(), "strategy": "sandwich"})
    with pytest.raises(
        ConfigError,
        match=rf"params file {re.escape(str(path))}: unknown strategy 'sandwich'; available: .*cyclic",
    ):
        load_params(path)


@pytest.mark.parametrize(
    ("config", "field"),
    [({"bogus": 1}, "bogus"), ({"bid_bps": 10_000}, "bid_bps"), ({"max_hops": "x"}, "max_hops")],
)
def test_a_bad_config_field(tmp_path: Path, config: dict[str, Any], field: str) -> None:
    path = write(tmp_path / "p.json", {**valid_json(), "config": config})
    with pytest.raises(ConfigError) as info:
        load_params(path)
    message = str(info.value)
    assert message.startswith(f"params file {path}: bad config for strategy 'cyclic_arb'")
    assert field in message and "fields:" in message  # names the field and lists the valid ones


@pytest.mark.parametrize(
    ("inclusion", "problem"),
    [
        ({"coef": [0, 0], "shares_bps": []}, "3 finite coefficients"),
        ({"coef": [0, "nan", 0], "shares_bps": []}, "3 finite coefficients"),
        ({"coef": [0, 0, 0], "shares_bps": [-5]}, "non-negative"),
        ({"shares_bps": [1]}, "not an inclusion model"),
    ],
)
def test_a_malformed_inclusion_model(tmp_path: Path, inclusion: Any, problem: str) -> None:
    path = write(tmp_path / "p.json", {**valid_json(), "inclusion": inclusion})
    with pytest.raises(ConfigError, match=rf"params file {re.escape(str(path))}: .*{problem}"):
        load_params(path)


def test_an_inclusion_model_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", {**valid_json(), "inclusion": [1, 2, 3]})
    with pytest.raises(ConfigError, match=re.escape(f"params file {path}")):
        load_params(path)


def test_a_non_object_tuning_section_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", {**valid_json(), "tuning": ["not", "a", "dict"]})
    assert dict(load_params(path).tuning) == {}
