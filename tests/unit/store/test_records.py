"""Records: the run's resume key (config hash) and validation before anything is written."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.store.store_contract import live_action, spec
from workbench.market.graph import WETH, Cycle, Hop
from workbench.market.uniswap_v2 import UniswapV2Pool
from workbench.store import (
    ActionKind,
    BlockRecord,
    InvalidRecordError,
    LiveMode,
    OpportunityRecord,
    OutcomeKind,
    OutcomeRecord,
    RouteHop,
    RunSpec,
    SimulationRecord,
    SimulationStatus,
)
from workbench.strategy.intents import ArbIntent

TKA = "0x" + "aa" * 20
PINNED_HASH = "33d1ac65f4f74ba1c4de5fd07074701379742bc21b6f24fb4ddbf49a2a1b38c4"
"""sha256 of {"blocks":[0,0],"config":{"a":[1,"x"],"b":1180591620717411303424},"dataset":{"chain_id":1,"path":"d"},"engine":{},"strategy":"s"}."""


def test_config_hash_is_canonical_and_covers_what_changes_results() -> None:
    base = spec()
    assert len(base.config_hash) == 64
    reordered = spec(config=dict(reversed(list(base.config.items()))))
    assert reordered.config_hash == base.config_hash
    for same in (spec(workers=4), spec(git_sha=None), spec(notes={"by": "me"})):
        assert same.config_hash == base.config_hash
    changed = [
        spec(strategy="backrun_arb"),
        spec(config={**base.config, "max_hops": 2}),
        spec(dataset_path="datasets/other"),
        spec(dataset_chain_id=1),
        spec(first_block=2),
        spec(last_block=11),
        spec(engine={"fidelity": "screening"}),
    ]
    assert len({s.config_hash for s in changed} | {base.config_hash}) == len(changed) + 1


def test_config_hash_is_pinned() -> None:
    """Changing the canonical form orphans every stored run: it must be deliberate."""
    run = RunSpec(
        strategy="s",
        config={"b": 2**70, "a": [1, "x"]},
        dataset_path="d",
        dataset_chain_id=1,
        first_block=0,
        last_block=0,
    )
    assert run.config_hash == PINNED_HASH


@pytest.mark.parametrize(
    "changes",
    [
        {"config": {"x": {1, 2}}},
        {"engine": {"x": float("nan")}},
        {"first_block": 5, "last_block": 4},
        {"first_block": -1},
        {"workers": 0},
        {"last_block": 10.0},
    ],
)
def test_bad_run_specs_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidRecordError):
        spec(**changes)


def test_statuses_accept_their_string_values_only() -> None:
    sim = SimulationRecord(
        status="reverted",  # type: ignore[arg-type]
        gas_used=1,
        profit=0,
        bid_paid=0,
        gas_cost=1,
        screening_profit_matches=False,
        revert_reason="min profit",
    )
    assert sim.status is SimulationStatus.REVERTED
    outcome = OutcomeRecord(outcome="won", pnl_upper_bound=1, pnl_with_competition=1)  # type: ignore[arg-type]
    assert outcome.outcome is OutcomeKind.WON
    with pytest.raises(ValueError):
        replace(outcome, outcome="sandwiched")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecordError):
        BlockRecord(number=1, tx_count=True)


def test_an_intent_becomes_an_opportunity_with_its_key_and_route() -> None:
    p1 = UniswapV2Pool(
        address="0x" + "01" * 20, token0=WETH, token1=TKA, reserve0=10**18, reserve1=10**18
    )
    p2 = replace(p1, address="0x" + "02" * 20)
    cycle = Cycle(hops=(Hop(p1, WETH, TKA), Hop(p2, TKA, WETH)))
    intent = ArbIntent(
        strategy="backrun_arb",
        cycle=cycle,
        amount_in=2**200,
        expected_profit=5,
        min_profit=1,
        gas_estimate=200_000,
        bid_bps=9000,
        priority_fee=3,
        after_tx="0x" + "cd" * 32,
    )
    record = OpportunityRecord.from_intent(intent)
    assert record.action is None
    assert OpportunityRecord.from_intent(intent, action=live_action()).action == live_action()
    assert record.key == intent.key == f"{cycle.id}@{intent.after_tx}"
    assert record.route == (RouteHop(p1.address, WETH, TKA), RouteHop(p2.address, TKA, WETH))
    assert (record.amount_in, record.bid_bps, record.priority_fee) == (2**200, 9000, 3)
    assert record.simulation is None and record.outcome is None


def test_a_live_action_takes_string_values_and_keeps_relays_as_plain_json() -> None:
    action = live_action(mode="shadow", action="approved", relays=[{"relay": "a", "n": 2**70}])
    assert action.mode is LiveMode.SHADOW and action.action is ActionKind.APPROVED
    assert action.relays == ({"relay": "a", "n": 2**70},)
    assert live_action(latency_ms=0).latency_ms == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "paper"}, "mode must be"),
        ({"action": "sandwiched"}, "sandwiched"),
        ({"mode": "shadow"}, "a shadow run submits nothing"),
        ({"action": "rejected", "reason": None}, "needs its reason"),
        ({"realised_pnl": 1.5}, "must be an int"),
        ({"gas_cost": True}, "must be an int"),
        ({"expected_pnl": -(10**78)}, "wider than"),
        ({"nonce": -1}, "out of range"),
        ({"target_block": 2**63}, "out of range"),
        ({"latency_ms": float("nan")}, "finite duration"),
        ({"latency_ms": -1.0}, "finite duration"),
        ({"tx_hash": "0x" + "ab" * 40}, "0x hash"),
        ({"relays": ({"relay": "a", "x": {1}},)}, "not plain JSON"),
        ({"relays": ("flashbots",)}, "JSON objects"),
    ],
)
def test_bad_live_actions_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        live_action(**changes)
