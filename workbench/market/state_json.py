"""STATE.json: pool states as JSON objects, the format of `workbench quote` and `pool-state`.

An object's ``kind`` names its venue ("uniswap_v2", "uniswap_v3", "solidly",
"curve_stableswap", "balancer_weighted"; each venue's ``venue.py`` documents its fields),
which parses and dumps it; the helpers here read the fields every venue shares. Integers may
be JSON numbers or decimal strings (up to 2**256 - 1); floats are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from workbench.errors import MarketError
from workbench.market.pool import Pool, PoolState
from workbench.market.venue import venue, venue_of

MAX_UINT256 = 2**256 - 1
MIN_INT256 = -(2**255)


def pool_from_json(obj: Any) -> PoolState:
    """The pool state described by a STATE.json object."""
    if not isinstance(obj, Mapping):
        raise MarketError(f"a pool state is a JSON object, got {type(obj).__name__}")
    return venue(obj.get("kind")).from_json(obj)


def pool_to_json(pool: Pool) -> dict[str, Any]:
    """The STATE.json object of a pool state (integers as JSON numbers)."""
    owner = venue_of(pool)
    if owner is None:
        raise MarketError(f"no STATE.json form for {type(pool).__name__}")
    return {"kind": owner.kind, **owner.to_json(pool)}


def dataclass_json(pool: PoolState) -> dict[str, Any]:
    """Every field of a state as JSON (tuples as lists): the STATE.json of venues whose
    fields are exactly their JSON keys."""
    values = {f.name: getattr(pool, f.name) for f in fields(pool)}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def parse_int(value: Any, name: str, *, signed: bool = False) -> int:
    """An integer given as a JSON number or a decimal string; floats and junk are refused."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MarketError(
            f"{name} must be an integer (JSON number or decimal string), got {value!r}"
        )
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        if not digits.isdigit() or not digits.isascii():
            raise MarketError(f"{name} must be a decimal integer, got {value!r}")
        value = int(text)
    low = MIN_INT256 if signed else 0
    if not low <= value <= MAX_UINT256:
        bounds = "[-2**255, 2**256)" if signed else "[0, 2**256)"
        raise MarketError(f"{name} must be in {bounds}, got {value}")
    return value


def parse_address(value: Any, name: str) -> str:
    """A 0x-prefixed 20-byte hex address, as given (its letter case kept)."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 42:
        raise MarketError(f"{name} must be a 0x-prefixed 20-byte hex address, got {value!r}")
    try:
        int(value, 16)
    except ValueError:
        raise MarketError(f"{name} is not hex: {value!r}") from None
    return value


def address_field(obj: Mapping[str, Any], key: str) -> str:
    """The address at ``key``."""
    return parse_address(obj.get(key), key)


def int_field(
    obj: Mapping[str, Any], key: str, *, signed: bool = False, default: int | None = None
) -> int:
    """The integer at ``key``; ``default`` when it is absent (required when None)."""
    if key not in obj:
        if default is not None:
            return default
        raise MarketError(f"pool state lacks {key!r}")
    return parse_int(obj[key], key, signed=signed)


def flag_field(obj: Mapping[str, Any], key: str, default: bool | None = None) -> bool:
    """The true/false at ``key``; ``default`` when it is absent (required when None)."""
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise MarketError(f"{key} must be true or false, got {value!r}")
    return value


def list_field(
    obj: Mapping[str, Any], key: str, parse: Callable[[Any, str], Any]
) -> tuple[Any, ...]:
    """The non-empty list at ``key``, each item read by ``parse(item, "key[i]")``."""
    value = obj.get(key)
    if not isinstance(value, list) or not value:
        raise MarketError(f"{key} must be a non-empty list")
    return tuple(parse(v, f"{key}[{i}]") for i, v in enumerate(value))
