"""Solidly-style pairs (Velodrome V2 / Aerodrome): the pair's math (``pool``) and the venue
(``venue``)."""

from __future__ import annotations

from workbench.market.solidly.pool import SolidlyPool, get_y, stable_k
from workbench.market.solidly.venue import SOLIDLY
from workbench.market.venue import register

register(SOLIDLY)

__all__ = ["SOLIDLY", "SolidlyPool", "get_y", "stable_k"]
