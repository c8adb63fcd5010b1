"""The next base fee follows exactly from the parent header: the real mainnet sample, every
block of a devnet history, and the formula's bounds."""

from __future__ import annotations

import json
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from devnet import ensure_default_dataset
from tests.conftest import mainnet_sample
from workbench.chain.eip1559 import next_base_fee
from workbench.sources.dataset import Dataset


def test_mainnet_17173050_follows_from_17173049() -> None:
    lines = (mainnet_sample() / "blocks.jsonl").read_text().splitlines()
    blocks = {b["number"]: b for b in map(json.loads, lines)}
    parent, child = blocks[17173049], blocks[17173050]
    assert (
        next_base_fee(parent["base_fee_per_gas"], parent["gas_used"], parent["gas_limit"])
        == child["base_fee_per_gas"]
    )


def test_every_devnet_block_follows_from_its_parent() -> None:
    blocks = Dataset.open(ensure_default_dataset()).read("blocks").sort("number").to_dicts()
    assert len(blocks) >= 300
    for parent, child in pairwise(blocks):
        predicted = next_base_fee(
            int(parent["base_fee_per_gas"]), parent["gas_used"], parent["gas_limit"]
        )
        assert predicted == int(child["base_fee_per_gas"]), child["number"]


@settings(max_examples=10_000, deadline=None)
@given(
    base=st.integers(min_value=0, max_value=10**15),
    limit=st.integers(min_value=2, max_value=60_000_000),
    share=st.integers(min_value=0, max_value=1000),
)
def test_moves_at_most_an_eighth_of_the_gap_to_the_target(
    base: int, limit: int, share: int
) -> None:
    """EIP-1559's bound: the base fee moves by at most base x |used - target| / target / 8
    (at least 1 wei up). A block may use more than twice its target when the gas limit is
    odd (limit 3, target 1, 3 used: 8 -> 10), so the step is not capped at an eighth."""
    used = limit * share // 1000
    nxt = next_base_fee(base, used, limit)
    target = limit // 2
    if used > target:
        assert base < nxt <= base + max(1, base * (used - target) // target // 8)
    elif used < target:
        assert base - base * (target - used) // target // 8 <= nxt <= base
    else:
        assert nxt == base


def test_a_block_over_twice_its_target_moves_more_than_an_eighth() -> None:
    """The case hypothesis once found: gas limit 3 (target 1), all 3 used."""
    assert next_base_fee(8, 3, 3) == 10
