"""The demo's truth recomputation on hand-made series (no network). Figures checked by hand in
the comments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nengtan.demo import truth as tr


def test_counter_increments_difference_reset_and_wrap() -> None:
    # 10 -> 15 (+5), reset after 15 is emitted so 3 is all new (+3), 3 -> 1 with modulus 20 is a
    # wrap (+1 + 20 - 3 = 18): 5 + 3 + 18 = 26
    samples = [(0, 10.0), (1000, 15.0), (2000, 3.0), (3000, 1.0)]
    assert tr.counter_increments(samples, 20.0, {1000}) == [5.0, 3.0, 18.0]
    assert tr.consumption("counter", samples, 20.0, {1000}) == 26.0


def test_rate_integral_is_sample_and_hold() -> None:
    # 100 kW for half an hour, then 200 kW for a quarter: 50 + 50 = 100 kWh (last sample holds
    # until nothing: it ends the span)
    samples = [(0, 100.0), (1_800_000, 200.0), (2_700_000, 999.0)]
    assert tr.rate_integral(samples) == pytest.approx(100.0)


def test_span_by_time_keeps_the_stored_interval() -> None:
    samples = [(0, 1.0), (10, 2.0), (20, 2.0), (30, 2.0), (40, 5.0)]
    assert tr.span_by_time(samples, 10, 30) == [(10, 2.0), (20, 2.0), (30, 2.0)]
    assert tr.span_by_time(samples, 41, 50) == []


def test_load_emitted_reads_readings_and_resets_in_device_time(tmp_path: Path) -> None:
    log = tmp_path / "emitted.jsonl"
    lines = [
        {"type": "readings", "src": "gw", "protocol": "mqtt", "t": 0, "ts": 90_000,
         "values": {"p": 1.0}},
        {"type": "readings", "src": "gw", "protocol": "mqtt", "t": 0, "ts": 90_000,
         "values": {"p": 1.0}},  # a duplicate re-sent
        {"type": "fault", "kind": "counter_reset", "target": "p", "t": 60_000},
        {"type": "readings", "src": "gw", "protocol": "mqtt", "t": 60_000, "ts": 150_000,
         "values": {"p": 2.0}},
    ]  # fmt: skip
    log.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    series = tr.load_emitted(log)["p"]
    assert series.skew_ms == 90_000 and series.resets_ms == {150_000}
    assert series.ordered() == [(90_000, 1.0), (150_000, 2.0)]
