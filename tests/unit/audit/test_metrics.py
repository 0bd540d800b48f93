"""``Metrics.observe_all``: a batch of latencies counted together, the same histogram as
observing them one by one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localforce.audit.metrics import BUCKETS, Metrics


def samples(metrics: Metrics, surface: str) -> dict[tuple[str, str], float]:
    out = {}
    for family in metrics.registry.collect():
        if family.name != "localforce_request_duration_seconds":
            continue
        for sample in family.samples:
            if sample.labels.get("surface") == surface and not sample.name.endswith("_created"):
                out[(sample.name, sample.labels.get("le", ""))] = sample.value
    return out


#: Every bound itself, either side of each, nothing and far past the last bound.
EDGES = [0.0, *BUCKETS, *(b * 0.999 for b in BUCKETS), *(b * 1.001 for b in BUCKETS), 99.0]


@given(st.lists(st.sampled_from(EDGES) | st.floats(0, 30), min_size=1, max_size=300))
def test_a_batch_is_the_histogram_of_its_latencies_observed_one_by_one(
        amounts: list[float]) -> None:
    together, one_by_one = Metrics(), Metrics()
    together.observe_all(together.latency, "data", amounts)
    for amount in amounts:
        one_by_one.latency.labels("data").observe(amount)

    got, expected = samples(together, "data"), samples(one_by_one, "data")
    sums = [key for key in expected if key[0].endswith("_sum")]
    assert {k: v for k, v in got.items() if k not in sums} == \
        {k: v for k, v in expected.items() if k not in sums}
    for key in sums:  # added in another order: the same up to rounding
        assert got[key] == pytest.approx(expected[key])


def test_each_label_keeps_its_own_counts() -> None:
    metrics = Metrics()
    metrics.observe_all(metrics.latency, "data", [0.0005, 0.003])
    metrics.observe_all(metrics.latency, "oauth", [20.0])
    metrics.observe_all(metrics.latency, "data", [0.003])

    data, oauth = samples(metrics, "data"), samples(metrics, "oauth")
    name = "localforce_request_duration_seconds"
    assert (data[(name + "_count", "")], oauth[(name + "_count", "")]) == (3, 1)
    assert (data[(name + "_bucket", "0.001")], data[(name + "_bucket", "0.005")]) == (1, 3)
    assert (oauth[(name + "_bucket", "10.0")], oauth[(name + "_bucket", "+Inf")]) == (0, 1)
