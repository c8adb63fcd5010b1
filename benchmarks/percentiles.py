"""The percentile every benchmark reports (imported as a sibling, as ``web3_script`` is)."""

from __future__ import annotations

import math


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (an observed value)."""
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, math.ceil(q * len(ranked) / 100) - 1))]
