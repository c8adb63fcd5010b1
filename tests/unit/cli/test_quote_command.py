"""`workbench quote` exactly as specified: single and batch, bad lines, 2**256 - 1 amounts."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from workbench.cli import app
from workbench.market.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MIN_SQRT_RATIO,
    get_sqrt_ratio_at_tick,
)

runner = CliRunner()
A, B, P = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "01" * 20
MAX = 2**256 - 1
V2 = {
    "kind": "uniswap_v2",
    "address": P,
    "token0": A,
    "token1": B,
    "reserve0": 10**20,
    "reserve1": "200000000000000000000000",
    "fee": 3000,
}
L = 10**20
V3 = {
    "kind": "uniswap_v3",
    "address": P,
    "token0": A,
    "token1": B,
    "fee": 500,
    "tick_spacing": 10,
    "sqrt_price_x96": get_sqrt_ratio_at_tick(0),
    "tick": 0,
    "liquidity": L,
    "ticks": {
        "-100": {"liquidity_gross": L, "liquidity_net": L},
        "100": {"liquidity_gross": L, "liquidity_net": str(-L)},
    },
}


def run(*args: str, stdin: str | None = None) -> tuple[int, list[dict]]:
    result = runner.invoke(app, ["quote", *args], input=stdin)
    return result.exit_code, [
        json.loads(line) for line in result.stdout.splitlines() if line.strip()
    ]


def test_single_quote_prints_one_object(tmp_path: Path) -> None:
    state = tmp_path / "v2.json"
    state.write_text(json.dumps(V2))
    code, out = run(
        "--pool-state",
        str(state),
        "--token-in",
        A.upper().replace("0X", "0x"),
        "--amount-in",
        str(10**18),
    )
    assert code == 0
    with_fee = 10**18 * 997
    assert out == [
        {
            "amount_in": 10**18,
            "amount_out": with_fee * 2 * 10**23 // (10**20 * 1000 + with_fee),
            "partial": False,
        }
    ]
    code, out = run("--pool-state", str(state), "--token-in", B, "--amount-out", "1000")
    assert code == 0 and out[0]["amount_out"] == 1000 and out[0]["partial"] is False


def test_v3_partial_fill_and_default_limits(tmp_path: Path) -> None:
    state = tmp_path / "v3.json"
    state.write_text(json.dumps(V3))
    # Far more than the range holds: the pool swaps up to the default limit, flagged partial.
    code, out = run("--pool-state", str(state), "--token-in", A, "--amount-in", str(10**30))
    assert code == 0 and out[0]["partial"] is True and 0 < out[0]["amount_in"] < 10**30
    code, out = run("--pool-state", str(state), "--token-in", B, "--amount-out", str(10**30))
    assert code == 0 and out[0]["partial"] is True and out[0]["amount_out"] < 10**30
    limit = get_sqrt_ratio_at_tick(-50)
    code, out = run(
        "--pool-state",
        str(state),
        "--token-in",
        A,
        "--amount-in",
        str(10**30),
        "--sqrt-price-limit-x96",
        str(limit),
    )
    assert code == 0 and out[0]["partial"] is True and out[0]["amount_in"] < 10**19


def test_batch_keeps_order_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        {"pool": V2, "token_in": A, "amount_in": 10**18},
        {"pool": V3, "token_in": B.upper().replace("0X", "0x"), "amount_out": "1000"},
        {"pool": V2, "token_in": A, "amount_in": MAX},  # the pair's uint112 reserves overflow
        {"pool": V3, "token_in": A, "amount_in": str(MAX)},  # beyond the pool's int256 amount
        {
            "pool": V3,
            "token_in": A,
            "amount_in": 2**255 - 1,
            "sqrt_price_limit_x96": MIN_SQRT_RATIO + 1,
        },
        {"pool": V3, "token_in": A, "amount_in": 1.5},
        {"pool": V3, "token_in": A},
        {"pool": {**V2, "kind": "uniswap_v9"}, "token_in": A, "amount_in": 1},
        {"pool": V3, "token_in": "0x" + "cc" * 20, "amount_in": 1},
        {"pool": V3, "token_in": B, "amount_in": 1, "sqrt_price_limit_x96": MAX_SQRT_RATIO},
        {"pool": V2, "token_in": A, "amount_in": -5},
    ]
    text = (
        "\n".join(json.dumps(x) for x in lines[:5])
        + "\nnot json at all\n"
        + "\n".join(json.dumps(x) for x in lines[5:])
        + "\n"
    )
    path = tmp_path / "requests.jsonl"
    path.write_text(text)
    code, out = run("--batch", str(path))
    assert code == 0
    assert len(out) == 12  # one line per request, in order
    assert set(out[0]) == {"amount_in", "amount_out", "partial"} and out[0]["amount_out"] > 0
    assert out[1]["amount_out"] == 1000 and out[1]["partial"] is False
    assert "uint112" in out[2]["error"]
    assert "int256" in out[3]["error"]
    assert out[4]["partial"] is True and out[4]["amount_in"] < 2**255 - 1
    assert "line 6" in out[5]["error"] and "JSON" in out[5]["error"]
    assert "integer" in out[6]["error"]
    assert "amount_in" in out[7]["error"] and "amount_out" in out[7]["error"]
    assert "uniswap_v9" in out[8]["error"]
    assert "not in this pool" in out[9]["error"]
    assert "price limit" in out[10]["error"]
    assert "2**256" in out[11]["error"]
    # The same batch from stdin gives the same lines; output integers are JSON numbers.
    code, again = run("--batch", "-", stdin=text)
    assert again == out and isinstance(out[0]["amount_out"], int)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["quote", "--token-in", A]).exit_code == 2
    assert runner.invoke(app, ["quote", "--batch", str(tmp_path / "missing.jsonl")]).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert (
        runner.invoke(
            app, ["quote", "--pool-state", str(bad), "--token-in", A, "--amount-in", "1"]
        ).exit_code
        == 2
    )
