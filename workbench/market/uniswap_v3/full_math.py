"""FullMath and UnsafeMath: 512-bit-safe mulDiv with the results' uint256 bound enforced."""

from __future__ import annotations

from workbench.errors import MarketError

MAX_UINT256 = 2**256 - 1


def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a * b / denominator); reverts (MarketError) when the result exceeds uint256."""
    if denominator == 0:
        raise MarketError("mulDiv by zero")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise MarketError("mulDiv overflow")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a * b / denominator), with FullMath's overflow check."""
    if denominator == 0:
        raise MarketError("mulDiv by zero")
    result = -(-(a * b) // denominator)
    if result > MAX_UINT256:
        raise MarketError("mulDivRoundingUp overflow")
    return result


def div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp (y > 0 is the caller's promise)."""
    return -(-x // y)
