"""STATE.json: pool states as JSON objects, the format of `workbench quote` and `pool-state`.

Integers may be JSON numbers or decimal strings (up to 2**256 - 1); floats are refused.

- ``{"kind": "uniswap_v2", "address", "token0", "token1", "reserve0", "reserve1", "fee": 3000}``
- ``{"kind": "uniswap_v3", "address", "token0", "token1", "fee", "tick_spacing",
  "sqrt_price_x96", "tick", "liquidity", "ticks": {"<tick>": {"liquidity_gross": N,
  "liquidity_net": N}}}``
- ``{"kind": "solidly", "address", "token0", "token1", "reserve0", "reserve1", "stable": bool,
  "fee": <basis points of 10_000>, "decimals0": 18, "decimals1": 18}``
- ``{"kind": "curve_stableswap", "address", "tokens": [..], "balances": [..], "decimals": [..],
  "amp": <A * a_precision>, "fee": <of 1e10>, "admin_fee": 0, "a_precision": 100}``
- ``{"kind": "balancer_weighted", "address", "tokens": [..], "balances": [..], "weights":
  [<1e18 = 100%>..], "decimals": [..], "swap_fee": <1e18 = 100%>, "legacy_pow": false}``
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workbench.errors import MarketError
from workbench.market.balancer import BalancerWeightedPool
from workbench.market.curve import CurveStableSwapPool
from workbench.market.pool import Pool
from workbench.market.solidly import SolidlyPool
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.market.v3.state import TickInfo, UniswapV3State

MAX_UINT256 = 2**256 - 1
MIN_INT256 = -(2**255)


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


def _address(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 42:
        raise MarketError(f"{key} must be a 0x-prefixed 20-byte hex address, got {value!r}")
    try:
        int(value, 16)
    except ValueError:
        raise MarketError(f"{key} is not hex: {value!r}") from None
    return value


def _field(
    obj: Mapping[str, Any], key: str, *, signed: bool = False, default: int | None = None
) -> int:
    if key not in obj:
        if default is not None:
            return default
        raise MarketError(f"pool state lacks {key!r}")
    return parse_int(obj[key], key, signed=signed)


def _v2(obj: Mapping[str, Any]) -> UniswapV2Pool:
    return UniswapV2Pool(
        address=_address(obj, "address"),
        token0=_address(obj, "token0"),
        token1=_address(obj, "token1"),
        reserve0=_field(obj, "reserve0"),
        reserve1=_field(obj, "reserve1"),
        fee=_field(obj, "fee", default=3000),
    )


def _v3(obj: Mapping[str, Any]) -> UniswapV3State:
    raw_ticks = obj.get("ticks", {})
    if not isinstance(raw_ticks, Mapping):
        raise MarketError(
            'ticks must be an object {"<tick>": {"liquidity_gross": N, "liquidity_net": N}}'
        )
    ticks = {}
    for key, info in raw_ticks.items():
        if not isinstance(info, Mapping):
            raise MarketError(
                f"tick {key}: expected an object with liquidity_gross and liquidity_net"
            )
        tick = parse_int(key, "tick key", signed=True)
        ticks[tick] = TickInfo(
            parse_int(info.get("liquidity_gross"), f"ticks[{key}].liquidity_gross"),
            parse_int(info.get("liquidity_net"), f"ticks[{key}].liquidity_net", signed=True),
        )
    return UniswapV3State(
        address=_address(obj, "address"),
        token0=_address(obj, "token0"),
        token1=_address(obj, "token1"),
        fee=_field(obj, "fee"),
        tick_spacing=_field(obj, "tick_spacing"),
        sqrt_price_x96=_field(obj, "sqrt_price_x96"),
        tick=_field(obj, "tick", signed=True),
        liquidity=_field(obj, "liquidity"),
        ticks=ticks,
    )


def _flag(obj: Mapping[str, Any], key: str, default: bool | None = None) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise MarketError(f"{key} must be true or false, got {value!r}")
    return value


def _list(obj: Mapping[str, Any], key: str, parse: Callable[[Any, str], Any]) -> tuple[Any, ...]:
    value = obj.get(key)
    if not isinstance(value, list) or not value:
        raise MarketError(f"{key} must be a non-empty list")
    return tuple(parse(v, f"{key}[{i}]") for i, v in enumerate(value))


def _addr(value: Any, name: str) -> str:
    return _address({name: value}, name)


def _solidly(obj: Mapping[str, Any]) -> SolidlyPool:
    return SolidlyPool(
        address=_address(obj, "address"),
        token0=_address(obj, "token0"),
        token1=_address(obj, "token1"),
        reserve0=_field(obj, "reserve0"),
        reserve1=_field(obj, "reserve1"),
        stable=_flag(obj, "stable"),
        fee=_field(obj, "fee"),
        decimals0=_field(obj, "decimals0", default=18),
        decimals1=_field(obj, "decimals1", default=18),
    )


def _curve(obj: Mapping[str, Any]) -> CurveStableSwapPool:
    return CurveStableSwapPool(
        address=_address(obj, "address"),
        tokens=_list(obj, "tokens", _addr),
        balances=_list(obj, "balances", parse_int),
        decimals=_list(obj, "decimals", parse_int),
        amp=_field(obj, "amp"),
        fee=_field(obj, "fee"),
        admin_fee=_field(obj, "admin_fee", default=0),
        a_precision=_field(obj, "a_precision", default=100),
    )


def _balancer(obj: Mapping[str, Any]) -> BalancerWeightedPool:
    return BalancerWeightedPool(
        address=_address(obj, "address"),
        tokens=_list(obj, "tokens", _addr),
        balances=_list(obj, "balances", parse_int),
        weights=_list(obj, "weights", parse_int),
        decimals=_list(obj, "decimals", parse_int),
        swap_fee=_field(obj, "swap_fee"),
        legacy_pow=_flag(obj, "legacy_pow", False),
    )


PARSERS: dict[str, Callable[[Mapping[str, Any]], Pool]] = {
    "uniswap_v2": _v2,
    "uniswap_v3": _v3,
    "solidly": _solidly,
    "curve_stableswap": _curve,
    "balancer_weighted": _balancer,
}
KINDS: dict[type, str] = {
    SolidlyPool: "solidly",
    CurveStableSwapPool: "curve_stableswap",
    BalancerWeightedPool: "balancer_weighted",
}


def pool_from_json(obj: Any) -> Pool:
    """The pool state described by a STATE.json object."""
    if not isinstance(obj, Mapping):
        raise MarketError(f"a pool state is a JSON object, got {type(obj).__name__}")
    kind = obj.get("kind")
    parser = PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise MarketError(f"unknown pool kind {kind!r}; expected one of {sorted(PARSERS)}")
    return parser(obj)


def pool_to_json(pool: Pool) -> dict[str, Any]:
    """The STATE.json object of a pool state (integers as JSON numbers)."""
    if isinstance(pool, UniswapV2Pool):
        return {
            "kind": "uniswap_v2",
            "address": pool.address,
            "token0": pool.token0,
            "token1": pool.token1,
            "reserve0": pool.reserve0,
            "reserve1": pool.reserve1,
            "fee": pool.fee,
        }
    if isinstance(pool, UniswapV3State):
        return {
            "kind": "uniswap_v3",
            "address": pool.address,
            "token0": pool.token0,
            "token1": pool.token1,
            "fee": pool.fee,
            "tick_spacing": pool.tick_spacing,
            "sqrt_price_x96": pool.sqrt_price_x96,
            "tick": pool.tick,
            "liquidity": pool.liquidity,
            "ticks": {
                str(t): {"liquidity_gross": i.liquidity_gross, "liquidity_net": i.liquidity_net}
                for t, i in sorted(pool.ticks.items())
            },
        }
    kind = KINDS.get(type(pool))
    if kind is None:
        raise MarketError(f"no STATE.json form for {type(pool).__name__}")
    fields = {f: getattr(pool, f) for f in pool.__dataclass_fields__}  # type: ignore[attr-defined]
    return {"kind": kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}}
