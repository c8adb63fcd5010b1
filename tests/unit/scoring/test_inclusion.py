"""The inclusion model: P(win) from P(contested) and what competitors pay, its logistic fit on
synthetic samples with known coefficients, and its JSON form."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ConfigError
from workbench.scoring.inclusion import BPS, ETH, InclusionModel, Sample

SHARES = (3_000, 5_000, 5_000, 8_000)


def model(
    coef: tuple[float, float, float] = (0.0, 0.0, 0.0), shares: tuple[int, ...] | list[int] = SHARES
) -> InclusionModel:
    return InclusionModel(coef=coef, shares_bps=tuple(sorted(shares)))


def test_paying_nothing_never_wins() -> None:
    m = model(coef=(-50.0, 0.0, 0.0))  # essentially never contested
    assert m.p_contested(ETH, 0) < 1e-20
    assert m.p_win(0, ETH, 0) == 0.0
    assert m.p_win(-1, ETH, 0) == 0.0
    assert m.p_win(1, ETH, 0) == pytest.approx(1.0)


def test_a_competitor_paying_exactly_our_amount_outpays_us() -> None:
    m = model()
    value = BPS  # a share in bps is then a payment in wei
    assert m.p_outpaid(1, value) == 1.0
    assert m.p_outpaid(3_000, value) == 1.0  # the 30% payer ties us, and ties win (judge: >=)
    assert m.p_outpaid(3_001, value) == 0.75
    assert m.p_outpaid(5_000, value) == 0.75
    assert m.p_outpaid(5_001, value) == 0.25
    assert m.p_outpaid(8_000, value) == 0.25
    assert m.p_outpaid(8_001, value) == 0.0
    # P(win) = 1 - P(contested) * P(outpaid); coef 0 makes P(contested) exactly 1/2
    assert m.p_contested(value, 5_000) == 0.5
    assert m.p_win(3_000, value, 5_000) == 0.5
    assert m.p_win(3_001, value, 5_000) == 1 - 0.5 * 0.75
    assert m.p_win(8_001, value, 5_000) == 1.0


@settings(max_examples=200, deadline=None)
@given(
    shares=st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
    value=st.integers(1, 10**21),
    paid_share=st.integers(0, 10_001),
    nudge=st.integers(-2, 2),
)
def test_p_outpaid_is_the_share_of_competitors_whose_payment_is_at_least_ours(
    shares: list[int], value: int, paid_share: int, nudge: int
) -> None:
    """Exactly what competition.judge decides: a competitor paying share * value // 10000 wei
    beats our ``paid`` when it is >= paid."""
    paid = max(1, value * paid_share // BPS + nudge)
    m = model(shares=shares)
    expected = sum(s * value // BPS >= paid for s in shares) / len(shares)
    assert m.p_outpaid(paid, value) == pytest.approx(expected, abs=1e-12)


def test_without_payment_history_any_competitor_outpays_us() -> None:
    m = model(coef=(0.0, 0.0, 0.0), shares=())
    assert m.p_outpaid(10**30, ETH) == 1.0
    assert m.p_win(10**30, ETH, 5_000) == 0.5  # we win only when uncontested
    assert m.candidate_bids(ETH) == [1]
    assert model().p_outpaid(5, 0) == 1.0  # a worthless opportunity: no share tells us anything


def test_candidate_bids_are_one_wei_and_one_wei_above_each_payment() -> None:
    assert model().candidate_bids(10**18) == [1, 3 * 10**17 + 1, 5 * 10**17 + 1, 8 * 10**17 + 1]
    m = model(shares=(3_333,))
    value = 10**18 + 7
    (_, above) = m.candidate_bids(value)
    assert m.p_outpaid(above, value) == 0.0 and m.p_outpaid(above - 1, value) == 1.0


TRUE_COEF = (-1.0, 0.8, 2.0)  # intercept, ln(value in ETH), fullness in [0, 1]


def synthetic(n: int, seed: int, coef: tuple[float, float, float]) -> list[Sample]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        value = int(math.exp(rng.uniform(math.log(1e-3), math.log(10.0))) * ETH)
        fullness = rng.randrange(0, BPS + 1)
        z = coef[0] + coef[1] * math.log(value / ETH) + coef[2] * fullness / BPS
        out.append(Sample(value, fullness, rng.random() < 1 / (1 + math.exp(-z))))
    return out


def test_fit_recovers_known_logistic_coefficients() -> None:
    """4000 samples, values log-uniform over 0.001-10 ETH, fullness uniform: the estimates are
    within about 4 standard errors (intercept and fullness +-0.6, the value slope +-0.15)."""
    samples = synthetic(4_000, seed=7, coef=TRUE_COEF)
    m = InclusionModel.fit(samples, [5_000, 3_000])
    assert m.samples == 4_000 and m.shares_bps == (3_000, 5_000)
    intercept, slope_value, slope_fullness = m.coef
    assert abs(intercept - TRUE_COEF[0]) < 0.6
    assert abs(slope_value - TRUE_COEF[1]) < 0.15
    assert abs(slope_fullness - TRUE_COEF[2]) < 0.6
    # P(contested) rises with the opportunity's value and with block fullness
    assert (
        m.p_contested(ETH // 100, 5_000)
        < m.p_contested(ETH, 5_000)
        < m.p_contested(10 * ETH, 5_000)
    )
    assert m.p_contested(ETH, 0) < m.p_contested(ETH, 5_000) < m.p_contested(ETH, 10_000)
    true_p = 1 / (1 + math.exp(-(TRUE_COEF[0] + TRUE_COEF[2] / 2)))  # 1 ETH, half full
    assert m.p_contested(ETH, 5_000) == pytest.approx(true_p, abs=0.05)


def test_fit_is_deterministic() -> None:
    samples = synthetic(500, seed=3, coef=TRUE_COEF)
    assert InclusionModel.fit(samples, [1]) == InclusionModel.fit(list(samples), (1,))


def test_never_contested_samples_give_a_small_but_finite_probability() -> None:
    samples = [Sample(s.value, s.fullness_bps, False) for s in synthetic(300, 1, TRUE_COEF)]
    m = InclusionModel.fit(samples, [])
    assert all(math.isfinite(c) for c in m.coef)
    for value, fullness in [(ETH // 1000, 0), (ETH, 5_000), (10 * ETH, 10_000)]:
        assert 0.0 < m.p_contested(value, fullness) < 0.01
    always = [Sample(s.value, s.fullness_bps, True) for s in samples]
    m = InclusionModel.fit(always, [])
    assert all(math.isfinite(c) for c in m.coef)
    assert 0.99 < m.p_contested(ETH, 5_000) < 1.0


def test_no_samples_means_even_odds() -> None:
    m = InclusionModel.fit([], [7, 2])
    assert m.coef == (0.0, 0.0, 0.0) and m.samples == 0 and m.shares_bps == (2, 7)
    assert m.p_contested(1, 0) == m.p_contested(10**24, 10_000) == 0.5


def test_json_round_trip_is_exact() -> None:
    m = InclusionModel.fit(synthetic(400, seed=5, coef=TRUE_COEF), [8_000, 0, 3_000, 3_000])
    text = json.dumps(m.to_json())
    back = InclusionModel.from_json(json.loads(text))
    assert back == m
    assert back.coef == m.coef  # float for float, not approximately
    assert json.loads(text) == {
        "coef": list(m.coef),
        "shares_bps": [0, 3_000, 3_000, 8_000],
        "samples": 400,
    }


def test_from_json_sorts_shares_and_defaults_samples() -> None:
    m = InclusionModel.from_json({"coef": [1, "2.5", 0], "shares_bps": [9, 1, 5]})
    assert m == InclusionModel((1.0, 2.5, 0.0), (1, 5, 9), 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"shares_bps": []}, "not an inclusion model"),
        ({"coef": [0, 0, 0]}, "not an inclusion model"),
        ({"coef": [0.1, 0.2], "shares_bps": []}, "3 finite coefficients"),
        ({"coef": [0, 0, 0, 0], "shares_bps": []}, "3 finite coefficients"),
        ({"coef": [0.0, float("nan"), 0.0], "shares_bps": []}, "3 finite coefficients"),
        ({"coef": [0.0, 0.0, "inf"], "shares_bps": []}, "3 finite coefficients"),
        ({"coef": [0, 0, 0], "shares_bps": [100, -1]}, "non-negative"),
        ({"coef": [0, 0, 0], "shares_bps": ["lots"]}, "not an inclusion model"),
        ({"coef": None, "shares_bps": []}, "not an inclusion model"),
        ({"coef": [0, 0, 0], "shares_bps": [], "samples": "many"}, "not an inclusion model"),
    ],
)
def test_from_json_rejects_malformed_data(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        InclusionModel.from_json(data)


@pytest.mark.parametrize("data", [[1, 2, 3], "model", 5])
def test_from_json_rejects_a_non_mapping_with_config_error(data: object) -> None:
    with pytest.raises(ConfigError):
        InclusionModel.from_json(data)  # type: ignore[arg-type]
