"""The pure parts of tuning: the train/held-out split, the search grid and its optuna
suggestions, and the study's name."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import FixedTrial

from workbench.engine.tune import (
    STEPS,
    TuneRequest,
    nice_step,
    search_space,
    split,
    study_name,
    suggest,
)
from workbench.errors import ConfigError
from workbench.strategy import create
from workbench.strategy.api import config_type

SPACE = config_type("cyclic_arb").tunables()
DEFAULTS = config_type("cyclic_arb")().model_dump()


def test_split_takes_the_held_out_share_from_the_tail() -> None:
    assert split(1, 100, 30) == ((1, 70), (71, 100))
    assert split(1_000, 1_009, 1) == ((1_000, 1_008), (1_009, 1_009))  # at least one block
    assert split(7, 8, 90) == ((7, 7), (8, 8))


@settings(max_examples=200, deadline=None)
@given(first=st.integers(0, 10**8), n=st.integers(2, 10_000), pct=st.integers(1, 90))
def test_split_partitions_the_range_into_two_non_empty_parts(first: int, n: int, pct: int) -> None:
    last = first + n - 1
    (a, b), (c, d) = split(first, last, pct)
    assert a == first and d == last and c == b + 1  # contiguous, nothing lost or repeated
    assert b >= a and d >= c  # both non-empty
    assert d - c + 1 == max(1, n * pct // 100)


@pytest.mark.parametrize("pct", [0, -5, 91, 100])
def test_split_rejects_a_bad_percentage(pct: int) -> None:
    with pytest.raises(ConfigError, match=rf"between 1 and 90 percent, got {pct}"):
        split(1, 100, pct)


@pytest.mark.parametrize(("first", "last"), [(5, 5), (5, 4)])
def test_split_rejects_a_range_too_short_to_split(first: int, last: int) -> None:
    with pytest.raises(ConfigError, match=rf"blocks {first}-{last} are too few"):
        split(first, last, 30)


@pytest.mark.parametrize(
    ("span", "step"),
    [
        (0, 1),
        (99, 1),
        (199, 1),
        (200, 2),
        (499, 2),
        (500, 5),
        (999, 5),
        (1_000, 10),
        (9_900, 50),
        (10_000, 100),
        (10**16 - 10**12, 5 * 10**13),
    ],
)
def test_nice_step(span: int, step: int) -> None:
    assert nice_step(span) == step


@settings(max_examples=300, deadline=None)
@given(span=st.integers(0, 10**15))
def test_nice_step_is_a_round_step_near_a_hundredth(span: int) -> None:
    step = nice_step(span)
    raw = max(1, span // STEPS)
    mantissa = step
    while mantissa % 10 == 0:
        mantissa //= 10
    assert mantissa in (1, 2, 5)
    assert step <= raw < 2.5 * step  # the largest round step not above span / 100


def test_nice_step_for_a_span_just_below_a_power_of_ten() -> None:
    assert nice_step(10**17 - 1) == 5 * 10**14


def test_the_cyclic_arb_search_space() -> None:
    assert search_space("cyclic_arb") == SPACE
    assert SPACE == {
        "min_net_profit": (10**12, 10**16),
        "bid_bps": (0, 9_900),
        "bid_policy": ("constant", "expected_net"),
        "bid_margin_bps": (0, 1_000),
        "slippage_bps": (0, 10_000),
    }


def test_a_strategy_with_nothing_tunable_cannot_be_tuned() -> None:
    from typing import ClassVar

    from workbench.strategy import StrategyConfig, register

    @register(StrategyConfig)
    class NothingToTune:
        name: ClassVar[str] = "tune_space_probe"

        def __init__(self, config: StrategyConfig) -> None:
            self.config = config

        def on_block(self, ctx: Any) -> list:
            return []

        def on_pending(self, ctx: Any, tx: Any) -> list:
            return []

    with pytest.raises(ConfigError, match="'tune_space_probe' marks no config field tunable"):
        search_space("tune_space_probe")


def fixed(values: dict[str, Any]) -> tuple[dict[str, Any], FixedTrial]:
    trial = FixedTrial(values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FixedTrial warns for a value off its distribution
        return suggest(trial, SPACE), trial


def test_the_default_config_lies_on_the_grid() -> None:
    defaults = {k: DEFAULTS[k] for k in SPACE}
    got, trial = fixed(defaults)  # no warning: every default is a point of its distribution
    assert got == defaults
    dists = trial.distributions
    assert dists["min_net_profit"] == IntDistribution(10**12, 10**16, log=True)
    assert dists["bid_bps"] == IntDistribution(0, 9_900, step=50)
    assert dists["bid_margin_bps"] == IntDistribution(0, 1_000, step=10)
    assert dists["slippage_bps"] == IntDistribution(0, 10_000, step=100)
    assert dists["bid_policy"] == CategoricalDistribution(["constant", "expected_net"])


def test_a_value_off_the_grid_is_noticed() -> None:
    off = {k: DEFAULTS[k] for k in SPACE} | {"bid_bps": 5_001}
    with pytest.raises(UserWarning, match="out of the range"):
        fixed(off)


def test_suggestions_from_a_study_stay_in_the_declared_space() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    configs = []
    for _ in range(200):
        trial = study.ask()
        config = suggest(trial, SPACE)
        study.tell(trial, 0.0)
        configs.append(config)
        assert set(config) == set(SPACE)
        for name, spec in SPACE.items():
            if isinstance(spec[0], str):
                assert config[name] in spec
            else:
                assert spec[0] <= config[name] <= spec[1] and type(config[name]) is int
        assert config["bid_bps"] % 50 == 0
        assert config["bid_margin_bps"] % 10 == 0
        assert config["slippage_bps"] % 100 == 0
        create("cyclic_arb", config)  # every suggestion is a valid config
    # min_net_profit is searched on a log scale: half of the draws below the geometric middle
    # (a linear scale would put about 1% of them below 10**14)
    low = sum(c["min_net_profit"] < 10**14 for c in configs)
    assert 60 <= low <= 140
    assert {c["bid_policy"] for c in configs} == {"constant", "expected_net"}
    assert max(c["slippage_bps"] for c in configs) > 9_000
    assert min(c["bid_bps"] for c in configs) < 1_000


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ((3, 250), IntDistribution(3, 249, step=2)),  # the top rounded down onto the grid
        ((1, 999), IntDistribution(1, 996, step=5)),
        ((1, 1_000), IntDistribution(1, 1_000, log=True)),  # three decades: log scale
        ((0, 10**6), IntDistribution(0, 10**6, step=10**4)),  # from zero: never log
        ((5, 5), IntDistribution(5, 5, step=1)),
    ],
)
def test_integer_ranges_become_grids_or_log_scales(
    spec: tuple[int, int], expected: IntDistribution
) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    value = suggest(trial, {"x": spec})["x"]
    assert trial.distributions["x"] == expected
    assert expected.low <= value <= expected.high


def request(tmp_path: Path, **changes: Any) -> TuneRequest:
    base: dict[str, Any] = {"dataset": tmp_path / "ds", "strategy": "cyclic_arb"}
    return TuneRequest(**(base | changes))


def test_study_name_is_deterministic_and_tracks_the_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = request(tmp_path)
    name = study_name(req, (1, 70), (71, 100))
    assert name == study_name(request(tmp_path), (1, 70), (71, 100))
    assert name.startswith("cyclic_arb-1-100-") and len(name.rsplit("-", 1)[1]) == 10
    assert study_name(request(tmp_path, trials=99), (1, 70), (71, 100)) == name  # not identity
    different = {
        study_name(req, (1, 69), (70, 100)),  # same blocks, another split
        study_name(req, (1, 70), (71, 101)),
        study_name(request(tmp_path, seed=1), (1, 70), (71, 100)),
        study_name(request(tmp_path, config={"bid_bps": 1}), (1, 70), (71, 100)),
        study_name(request(tmp_path, dataset=tmp_path / "other"), (1, 70), (71, 100)),
    }
    assert name not in different and len(different) == 5
    monkeypatch.chdir(tmp_path)  # a relative dataset path names the same study
    assert study_name(request(tmp_path, dataset=Path("ds")), (1, 70), (71, 100)) == name
    assert study_name(request(tmp_path, study="mine"), (1, 70), (71, 100)) == "mine"
