"""Quotes from STATE.json requests: the engine of `workbench quote` (single and batch)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from workbench.errors import MarketError
from workbench.market.pool import Pool
from workbench.market.state_json import parse_int, pool_from_json


def quote(
    pool: Pool,
    token_in: str,
    *,
    amount_in: int | None = None,
    amount_out: int | None = None,
    sqrt_price_limit_x96: int | None = None,
    token_out: str | None = None,
) -> dict[str, Any]:
    """``{"amount_in", "amount_out", "partial"}`` for one exact-input or exact-output quote;
    ``token_out`` picks the output of a pool with more than two tokens."""
    if (amount_in is None) == (amount_out is None):
        raise MarketError("give exactly one of amount_in and amount_out")
    extra: dict[str, Any] = {}
    if len(pool.tokens) > 2:
        if token_out is None:
            raise MarketError(f"this pool has {len(pool.tokens)} tokens: give token_out")
        extra["token_out"] = token_out
    if amount_in is not None:
        swap = pool.swap_exact_in(token_in, amount_in, sqrt_price_limit_x96, **extra)
    else:
        assert amount_out is not None
        swap = pool.swap_exact_out(token_in, amount_out, sqrt_price_limit_x96, **extra)
    return {"amount_in": swap.amount_in, "amount_out": swap.amount_out, "partial": swap.partial}


def quote_request(request: Any) -> dict[str, Any]:
    """One batch line: ``{"pool": STATE, "token_in", "amount_in" | "amount_out", ["sqrt_price_limit_x96"]}``."""
    if not isinstance(request, Mapping):
        raise MarketError(f"a request is a JSON object, got {type(request).__name__}")
    unknown = set(request) - {
        "pool",
        "token_in",
        "token_out",
        "amount_in",
        "amount_out",
        "sqrt_price_limit_x96",
    }
    if unknown:
        raise MarketError(f"unknown request field(s): {', '.join(sorted(unknown))}")
    token_in = request.get("token_in")
    if not isinstance(token_in, str):
        raise MarketError("token_in must be an address string")

    token_out = request.get("token_out")
    if token_out is not None and not isinstance(token_out, str):
        raise MarketError("token_out must be an address string")

    def opt(key: str) -> int | None:
        return None if request.get(key) is None else parse_int(request[key], key)

    return quote(
        pool_from_json(request.get("pool")),
        token_in,
        amount_in=opt("amount_in"),
        amount_out=opt("amount_out"),
        sqrt_price_limit_x96=opt("sqrt_price_limit_x96"),
        token_out=token_out,
    )


def quote_lines(lines: Iterable[str]) -> Iterator[str]:
    """One JSON result line per request line, in order; a bad request gives ``{"error": ...}``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            result = quote_request(json.loads(line))
        except json.JSONDecodeError as exc:
            result = {"error": f"line {number}: invalid JSON: {exc.msg} at column {exc.colno}"}
        except (ValueError, ArithmeticError) as exc:  # MarketError is a ValueError
            result = {"error": f"line {number}: {exc}"}
        yield json.dumps(result)
