"""The stage bench's pure parts: its load is what the sink and the park accept, and the drain
rate is computed over the window in which the group worked."""

from __future__ import annotations

import itertools

import orjson

from ingest.contract import TOPIC_READINGS
from nengtan.bench.load import BenchPark
from nengtan.bench.stages import drain_rate, edge_costs, gateway_batch
from store.tables import TARGETS


def test_gateway_batches_are_the_bench_parks_readings_and_the_sink_reads_them() -> None:
    park = BenchPark(2, 5, alarm_points=1)
    dev = park.device_ids()[1]
    batch = orjson.loads(gateway_batch(dev, 3, 5, 1_767_225_600_000))
    assert [r["point"] for r in batch["readings"]] == park.point_ids(dev)
    rows = list(TARGETS[TOPIC_READINGS].rows(batch))
    assert len(rows) == 5 and rows[0][4:] == (dev, 3, 1_767_225_600_000)


def test_drain_rate_counts_from_the_first_commit_until_the_backlog_is_gone() -> None:
    # committed offsets as a group reports them: nothing, then 10 messages per call
    ticks = itertools.chain([0, 0], itertools.count(10, 10))
    rate = drain_rate(lambda: min(next(ticks), 40), start=0, total=40, points=100, window_s=30)
    assert 0 < rate < 40 * 100 / 0.5  # three polls 0.5 s apart carried 30 messages


def test_edge_costs_measure_every_figure_and_leave_the_codec_as_it_was() -> None:
    from kafka.record import default_records  # type: ignore[import-untyped]

    before = default_records.gzip_encode
    costs = edge_costs(batches=40, points=20)
    assert all(v > 0 for v in costs.values()) and costs["readings_per_batch"] == 20
    assert default_records.gzip_encode is before
