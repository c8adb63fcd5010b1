"""The inclusion model: P(our bundle wins | what we pay, opportunity size, block fullness).

We win an opportunity unless a competitor takes it and pays at least as much (the rule of
``competition.judge``). So the model has two fitted parts:

- P(contested | size, fullness): a logistic regression on the log of the opportunity's value
  in ETH and the parent block's fullness, fitted by Newton's method with a small ridge
  penalty on the opportunities of a training backtest (contested = a competitor took it);
- what a competitor pays, as a share of the opportunity's value: the empirical distribution
  of the shares winning searchers paid in history (``scoring.payments``).

P(win | paid) = 1 - P(contested) * P(share * value >= paid) for paid > 0, and 0 for a bundle
that pays the builder nothing (no builder includes it). Probabilities are floats
(statistics); every amount stays an integer. The model is plain JSON data, so a params file
carries it into a backtest or the live runner.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError

ETH = 10**18
BPS = 10_000
RIDGE = 1.0
"""L2 penalty on the slopes: keeps the fit finite when every sample is (un)contested."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One opportunity of a training run: its EVM value (gross, wei), the parent block's
    fullness, and whether a competitor took it."""

    value: int
    fullness_bps: int
    contested: bool


def _features(value: int, fullness_bps: int) -> tuple[float, float, float]:
    return (1.0, math.log(max(value, 1) / ETH), fullness_bps / BPS)


@dataclass(frozen=True, slots=True)
class InclusionModel:
    coef: tuple[float, float, float]  # intercept, ln(value in ETH), fullness in [0, 1]
    shares_bps: tuple[int, ...]  # sorted competitor payment shares
    samples: int = 0  # training opportunities the logistic part was fitted on

    def p_contested(self, value: int, fullness_bps: int) -> float:
        z = sum(c * x for c, x in zip(self.coef, _features(value, fullness_bps), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def p_outpaid(self, paid: int, value: int) -> float:
        """P(a competitor who takes the opportunity pays at least ``paid``)."""
        if not self.shares_bps or value <= 0:
            return 1.0
        threshold = -(-paid * BPS // value)  # least share whose payment reaches ``paid``
        return 1.0 - bisect_left(self.shares_bps, threshold) / len(self.shares_bps)

    def p_win(self, paid: int, value: int, fullness_bps: int) -> float:
        if paid <= 0:
            return 0.0
        return 1.0 - self.p_contested(value, fullness_bps) * self.p_outpaid(paid, value)

    def candidate_bids(self, value: int) -> list[int]:
        """The least payment that wins uncontested (1 wei), and 1 wei above each historical
        payment share of ``value``."""
        return sorted({1} | {s * value // BPS + 1 for s in self.shares_bps})

    @classmethod
    def fit(cls, samples: Iterable[Sample], shares_bps: Iterable[int]) -> InclusionModel:
        rows = list(samples)
        return cls(
            coef=_logistic(
                [_features(s.value, s.fullness_bps) for s in rows], [s.contested for s in rows]
            ),
            shares_bps=tuple(sorted(int(s) for s in shares_bps)),
            samples=len(rows),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "coef": list(self.coef),
            "shares_bps": list(self.shares_bps),
            "samples": self.samples,
        }

    @classmethod
    def from_json(cls, data: Any) -> InclusionModel:
        if not isinstance(data, Mapping):
            raise ConfigError(f"an inclusion model is a JSON object, got {type(data).__name__}")
        try:
            coef = tuple(float(c) for c in data["coef"])
            shares = tuple(sorted(int(s) for s in data["shares_bps"]))
            samples = int(data.get("samples", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not an inclusion model ({exc!r})") from None
        if len(coef) != 3 or any(not math.isfinite(c) for c in coef):
            raise ConfigError(f"an inclusion model has 3 finite coefficients, got {coef}")
        if any(s < 0 for s in shares):
            raise ConfigError("payment shares must be non-negative")
        return cls((coef[0], coef[1], coef[2]), shares, samples)


def _logistic(xs: list[tuple[float, float, float]], ys: list[bool]) -> tuple[float, float, float]:
    """Ridge-penalised logistic regression by Newton's method (3 parameters, closed 3x3 solve)."""
    if not xs:
        return (0.0, 0.0, 0.0)  # no evidence: P(contested) = 1/2
    import numpy as np  # statistics only

    x = np.array(xs, dtype=float)
    y = np.array(ys, dtype=float)
    penalty = np.diag([1e-3, RIDGE, RIDGE])  # the intercept nearly free, but finite
    # The intercept starts at the log-odds of the observed rate (clipped), so the first step
    # is already close when the slopes carry little information.
    rate = min(max(y.mean(), 0.5 / len(y)), 1 - 0.5 / len(y))
    beta = np.array([math.log(rate / (1 - rate)), 0.0, 0.0])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -60, 60)))
        gradient = x.T @ (y - p) - penalty @ beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty + 1e-9 * np.eye(3)
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return (float(beta[0]), float(beta[1]), float(beta[2]))
