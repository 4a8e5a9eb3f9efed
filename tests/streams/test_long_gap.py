"""One reading 300 days after a point's last, through a real worker and sink: bounded output
(one interval record, not one per minute of the gap), a ``long_gap`` anomaly alert, exact
totals, and a worker that keeps processing and committing (it once stalled and exited 75 in a
loop on ~446,000 records of such a reading)."""

from __future__ import annotations

import itertools
import math
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer

from ingest.contract import TOPIC_EMISSIONS, TOPIC_READINGS, ReadingBatch
from nengtan.settings import Settings
from store.migrate import migrate
from store.sink import SINK_TOPICS
from streams.topics import TOPIC_FACTS

pytestmark = [pytest.mark.integration]

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
DAY_MS = 86_400_000
GAP_MS = 300 * DAY_MS
STEP_MS = 10_000

PARK = """
schema: nengtan.park/1
id: gp{s}
region: CN-JS
enterprises:
  - id: ge{s}
    industry: chemicals
    region: CN-JS
    devices:
      - {{id: gg{s}, protocol: mqtt, update_s: 10}}
    points:
      - {{id: g{s}.kwh, kind: counter, carrier: electricity, uom: kWh, use: purchased,
          device: gg{s}, load: {{nominal: 600}}}}
      - {{id: g{s}.kw, kind: rate, carrier: electricity, uom: kW, use: purchased, device: gg{s}}}
"""


def _feed(s: str) -> tuple[list[bytes], dict[str, float]]:
    """3 minutes of 10 s batches, one batch 300 days later, then 2 more minutes; the truth
    (counter increments, sample-and-hold integral of the rate)."""
    times = [T0 + i * STEP_MS for i in range(18)]
    times += [times[-1] + GAP_MS + i * STEP_MS for i in range(13)]
    kwh, kw = f"g{s}.kwh", f"g{s}.kw"
    bodies = []
    for seq, ts in enumerate(times):
        readings = [{"point": kwh, "ts": ts, "value": 1_000.0 + seq * 1.5},
                    {"point": kw, "ts": ts, "value": 100.0 + seq}]  # fmt: skip
        bodies.append(ReadingBatch(device=f"gg{s}", seq=seq, sent_ms=ts,
                                   readings=readings).to_json())  # type: ignore[arg-type]  # fmt: skip
    rate = math.fsum((100.0 + i) * (t1 - t0) / 3_600_000 for i, (t0, t1) in
                     enumerate(itertools.pairwise(times)))  # fmt: skip
    return bodies, {kwh: 1.5 * (len(times) - 1), kw: rate}


def _stored(dsn: str, s: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT point, (extract(epoch FROM start_ts) * 1000)::bigint,"
            " (extract(epoch FROM end_ts) * 1000)::bigint, quantity FROM consumption"
            " WHERE point LIKE %s", (f"g{s}.%",)).fetchall()  # fmt: skip
        emissions = conn.execute(
            "SELECT count(*), sum(co2e_t) FROM emissions WHERE enterprise = %s", (f"ge{s}",)
        ).fetchone()
        alerts = conn.execute(
            "SELECT scope, metric, state FROM alerts WHERE rule_id = 'point-counter-anomaly'"
            " AND scope LIKE %s", (f"%g{s}.%",)).fetchall()  # fmt: skip
    return {"rows": rows, "emissions": emissions, "alerts": alerts}


def test_a_reading_after_300_days_is_bounded_alerted_and_committed(
    stack_settings: Settings, fresh_dsn: Callable[[], str], procs: Any, tmp_path: Path
) -> None:
    s = uuid.uuid4().hex[:8]
    park_file = tmp_path / "park.yaml"
    park_file.write_text(PARK.format(s=s), encoding="utf-8")
    dsn = fresh_dsn()
    migrate(dsn)
    bodies, truth = _feed(s)
    producer = KafkaProducer(bootstrap_servers=stack_settings.bootstrap, acks="all")
    for body in bodies:
        producer.send(TOPIC_READINGS, key=f"gg{s}".encode(), value=body)
    producer.flush()
    producer.close()

    procs.supervised("worker", ["worker", str(park_file), "--app-id", f"g{s}"])
    procs.supervised("sink", ["sink", "--group-id", f"gs{s}"], dsn)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not _stored(dsn, s)["alerts"]:
        time.sleep(1.0)
    # the worker commits to the end of its inputs (the enterprise agent's too), the sink after
    procs.wait_caught_up(f"g{s}", (TOPIC_READINGS, TOPIC_EMISSIONS, TOPIC_FACTS), timeout_s=180)
    procs.wait_caught_up(f"gs{s}", SINK_TOPICS, timeout_s=180)
    got = _stored(dsn, s)
    assert procs.restarts().get("worker", 0) == 0

    by_point: dict[str, list[tuple[int, int, float]]] = {}
    for point, start, end, qty in got["rows"]:
        by_point.setdefault(point, []).append((start, end, qty))
    for point, expected in truth.items():
        rows = by_point[point]
        # ~3 + 2 minutes either side of the gap, and the one interval across it
        assert len(rows) <= 8, (point, len(rows))
        long = [r for r in rows if r[1] - r[0] > 60_000]
        assert [(r[0], r[1]) for r in long] == [(T0 + 17 * STEP_MS, T0 + 17 * STEP_MS + GAP_MS)]
        assert math.fsum(r[2] for r in rows) == pytest.approx(expected, rel=1e-9), point
    count, co2e = got["emissions"]
    assert count <= 8  # the counter is the inventory point; the rate is not added to it
    assert co2e > 0
    assert (f"point:g{s}.kwh", "counter_long_gap", "raised") in got["alerts"]
