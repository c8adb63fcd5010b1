"""Balancer's revert reasons (``BAL#nnn``) as a ``MarketError`` that carries the code."""

from __future__ import annotations

from workbench.errors import MarketError

ADD_OVERFLOW = 0
SUB_OVERFLOW = 1
MUL_OVERFLOW = 3
ZERO_DIVISION = 4
DIV_INTERNAL = 5
X_OUT_OF_BOUNDS = 6
Y_OUT_OF_BOUNDS = 7
PRODUCT_OUT_OF_BOUNDS = 8
INVALID_EXPONENT = 9
OUT_OF_BOUNDS = 100
MAX_IN_RATIO = 304
MAX_OUT_RATIO = 305
BALANCE_TOTAL_OVERFLOW = 526

_NAMES = {
    ADD_OVERFLOW: "ADD_OVERFLOW",
    SUB_OVERFLOW: "SUB_OVERFLOW",
    MUL_OVERFLOW: "MUL_OVERFLOW",
    ZERO_DIVISION: "ZERO_DIVISION",
    DIV_INTERNAL: "DIV_INTERNAL",
    X_OUT_OF_BOUNDS: "X_OUT_OF_BOUNDS",
    Y_OUT_OF_BOUNDS: "Y_OUT_OF_BOUNDS",
    PRODUCT_OUT_OF_BOUNDS: "PRODUCT_OUT_OF_BOUNDS",
    INVALID_EXPONENT: "INVALID_EXPONENT",
    OUT_OF_BOUNDS: "OUT_OF_BOUNDS",
    MAX_IN_RATIO: "MAX_IN_RATIO",
    MAX_OUT_RATIO: "MAX_OUT_RATIO",
    BALANCE_TOTAL_OVERFLOW: "BALANCE_TOTAL_OVERFLOW",
}


class BalancerError(MarketError):
    """The contract would revert with ``BAL#{code}``; ``code`` is Balancer's error number."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        text = f"BAL#{code:03d} {_NAMES.get(code, '')}".rstrip()
        super().__init__(f"{text}: {detail}" if detail else text)


def require(condition: bool, code: int, detail: str = "") -> None:
    """Balancer's ``_require``: raises ``BalancerError(code)`` unless ``condition``."""
    if not condition:
        raise BalancerError(code, detail)
