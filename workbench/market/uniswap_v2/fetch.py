"""A V2 pair read from a node: token0, token1, getReserves (and feePips, which our V2 fork
pairs expose) in one batch."""

from __future__ import annotations

from workbench.market.events import word_address
from workbench.market.fetch import PoolReader, Probe
from workbench.market.uniswap_v2.pool import UniswapV2Pool


def _pair(probe: Probe) -> UniswapV2Pool:
    words = probe.words
    return UniswapV2Pool(
        address=probe.pool,
        token0=word_address(words["token0()"][0]),
        token1=word_address(words["token1()"][0]),
        reserve0=words["getReserves()"][0],
        reserve1=words["getReserves()"][1],
        fee=words["feePips()"][0] if "feePips()" in words else probe.fee,
    )


READER = PoolReader(
    kind="v2",
    name="Uniswap V2",
    calls={"token0()": 1, "token1()": 1, "getReserves()": 3, "feePips()": 1},
    required=("token0()", "token1()", "getReserves()"),
    hint="V2's getReserves()",
    build=_pair,
)
