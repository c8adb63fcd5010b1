"""live.metrics: each method moves its series, the exposition parses and names them all, two
instances never share a series, and every metric the Grafana dashboard queries exists."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from live.metrics import CONTENT_TYPE, LATENCY_BUCKETS, LiveMetrics

P = "workbench_live_"
DASHBOARD = Path(__file__).parents[3] / "live" / "grafana" / "dashboard.json"
SERIES_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def metrics() -> LiveMetrics:
    return LiveMetrics()


def families(m: LiveMetrics) -> dict[str, str]:
    """Metric name (counters without ``_total``) to type; the ``_created`` gauges left out."""
    parsed = text_string_to_metric_families(m.exposition().decode())
    return {f.name: f.type for f in parsed if not f.name.endswith("_created")}


def value(m: LiveMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(P + name, labels)


def test_counters_by_label(metrics):
    metrics.detected("cyclic_arb")
    metrics.detected("cyclic_arb", n=3)
    metrics.detected("backrun", 2)
    metrics.rejected("capital_cap")
    metrics.rejected("capital_cap")
    metrics.rejected("duplicate")
    metrics.relay_error("flashbots")
    assert value(metrics, "opportunities_detected_total", strategy="cyclic_arb") == 4
    assert value(metrics, "opportunities_detected_total", strategy="backrun") == 2
    assert value(metrics, "opportunities_rejected_total", reason="capital_cap") == 2
    assert value(metrics, "opportunities_rejected_total", reason="duplicate") == 1
    assert value(metrics, "relay_errors_total", relay="flashbots") == 1
    assert value(metrics, "relay_errors_total", relay="titan") is None


def test_submitted_counts_by_relay_and_observes_latency(metrics):
    metrics.submitted("flashbots", 0.004)
    metrics.submitted("titan", 0.03)
    metrics.submitted("titan")  # no triggering event known: counted, not timed
    assert value(metrics, "bundles_submitted_total", relay="flashbots") == 1
    assert value(metrics, "bundles_submitted_total", relay="titan") == 2
    assert value(metrics, "event_to_submission_seconds_count") == 2
    assert value(metrics, "event_to_submission_seconds_sum") == pytest.approx(0.034)
    assert value(metrics, "event_to_submission_seconds_bucket", le="0.005") == 1
    assert value(metrics, "event_to_submission_seconds_bucket", le="0.03") == 2


def test_latency_buckets_are_fine_below_50_ms():
    assert LATENCY_BUCKETS[0] == 0.0005 and LATENCY_BUCKETS[-1] == 1.0
    below = [b for b in LATENCY_BUCKETS if b <= 0.05]
    assert len(below) >= 15
    assert list(LATENCY_BUCKETS) == sorted(set(LATENCY_BUCKETS))


def test_inclusion_reconnects_backfill(metrics):
    metrics.included()
    metrics.included(2)
    metrics.missed(5)
    metrics.reconnected()
    metrics.backfilled(7)
    metrics.backfilled()
    metrics.skipped("malformed_head")
    metrics.skipped("malformed_head")
    metrics.skipped("dropped_pending")
    assert value(metrics, "bundles_included_total") == 3
    assert value(metrics, "bundles_missed_total") == 5
    assert value(metrics, "ws_reconnects_total") == 1
    assert value(metrics, "blocks_backfilled_total") == 8
    assert value(metrics, "events_skipped_total", what="malformed_head") == 2
    assert value(metrics, "events_skipped_total", what="dropped_pending") == 1


def test_block_sets_head_and_its_age():
    clock = Clock()
    m = LiveMetrics(clock=clock)
    assert m.head_age() is None
    assert math.isnan(value(m, "head_age_seconds") or 0.0)
    m.block(100, 0.2)
    clock.now += 3.5
    m.block(101, 0.05)
    clock.now += 1.25
    assert value(m, "head_block") == 101
    assert value(m, "blocks_processed_total") == 2
    assert value(m, "block_processing_seconds_count") == 2
    assert value(m, "block_processing_seconds_sum") == pytest.approx(0.25)
    assert m.head_age() == 1.25
    assert value(m, "head_age_seconds") == 1.25


def test_profit_accumulates_exact_integers(metrics):
    big = 123_456_789_012_345_678_901  # above 2**64 and 2**53: the gauge is only approximate
    metrics.profit(big, big + 10)
    metrics.profit(-1, -2)
    metrics.profit(-(10**18), 5 * 10**17)
    assert metrics.realised_wei == big - 1 - 10**18
    assert metrics.expected_wei == big + 8 + 5 * 10**17
    assert value(metrics, "realised_profit_wei") == pytest.approx(big - 10**18, rel=1e-12)
    assert value(metrics, "expected_profit_wei") == pytest.approx(big + 5 * 10**17, rel=1e-12)


def test_at_risk_replaces_and_simulated_observes(metrics):
    metrics.at_risk(3 * 10**18)
    metrics.at_risk(10**18)
    metrics.simulated(0.012)
    assert value(metrics, "capital_at_risk_wei") == 1e18
    assert value(metrics, "simulation_seconds_count") == 1
    assert value(metrics, "simulation_seconds_sum") == pytest.approx(0.012)


def test_exposition_is_prometheus_text_with_every_metric(metrics):
    metrics.detected("cyclic_arb")
    metrics.submitted("flashbots", 0.002)
    metrics.block(7, 0.1)
    text = metrics.exposition().decode()
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")
    expected = {
        "opportunities_detected": "counter",
        "opportunities_rejected": "counter",
        "bundles_submitted": "counter",
        "relay_errors": "counter",
        "bundles_included": "counter",
        "bundles_missed": "counter",
        "blocks_processed": "counter",
        "ws_reconnects": "counter",
        "blocks_backfilled": "counter",
        "events_skipped": "counter",
        "reorgs": "counter",
        "blocks_orphaned": "counter",
        "landed_outside_target": "counter",
        "head_block": "gauge",
        "head_age_seconds": "gauge",
        "realised_profit_wei": "gauge",
        "expected_profit_wei": "gauge",
        "capital_at_risk_wei": "gauge",
        "event_to_submission_seconds": "histogram",
        "simulation_seconds": "histogram",
        "block_processing_seconds": "histogram",
    }
    assert {name.removeprefix(P): t for name, t in families(metrics).items()} == expected
    assert 'workbench_live_opportunities_detected_total{strategy="cyclic_arb"} 1.0' in text
    assert "workbench_live_head_block 7.0" in text


def test_two_instances_do_not_collide_nor_touch_the_global_registry():
    a, b = LiveMetrics(), LiveMetrics()
    a.detected("s", 5)
    a.block(9, 0.1)
    assert value(a, "opportunities_detected_total", strategy="s") == 5
    assert value(b, "opportunities_detected_total", strategy="s") is None
    assert value(b, "head_block") == 0
    assert REGISTRY.get_sample_value(P + "head_block") is None


def test_an_explicit_registry_is_used_and_names_are_unique_in_it():
    registry = CollectorRegistry()
    m = LiveMetrics(registry)
    assert m.registry is registry
    m.included()
    assert registry.get_sample_value(P + "bundles_included_total") == 1
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        LiveMetrics(registry)


def _exprs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for v in node.values() for e in _exprs(v)]
    if isinstance(node, list):
        return [e for v in node for e in _exprs(v)]
    return []


def test_every_metric_in_the_dashboard_exists():
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    assert dashboard["schemaVersion"] >= 39
    assert any(i["name"] == "DS_PROMETHEUS" for i in dashboard["__inputs"])
    exprs = _exprs(dashboard)
    assert len(exprs) >= 15
    used = {name for e in exprs for name in re.findall(r"workbench_live_[a-z_]+", e)}
    exposed = families(LiveMetrics())
    series = {name + suffix for name, t in exposed.items() for suffix in SERIES_SUFFIXES[t]}
    assert used, "the dashboard queries no workbench_live_ metric"
    assert used - series == set()
    uncharted = {
        n for n, t in exposed.items() if not any(n + s in used for s in SERIES_SUFFIXES[t])
    }
    assert uncharted == set()
