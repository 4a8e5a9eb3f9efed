"""The sink's direct binary COPY of raw readings and its offsets, against the real PostgreSQL
and Kafka of the session stack."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from ingest.contract import TOPIC_READINGS
from nengtan.settings import Settings
from store.migrate import migrate
from store.sink import Record, Sink, Writer, run_sink

pytestmark = pytest.mark.integration

T0 = 1_767_571_200_123


def batch(device: str, seq: int, readings: list[dict[str, Any]], sent_ms: int = T0) -> bytes:
    return json.dumps({"schema": "nt.readings/1", "device": device, "seq": seq,
                       "sent_ms": sent_ms, "readings": readings}).encode()  # fmt: skip


# values, times and qualities at the edges of what the contract carries
EDGE_READINGS = [
    {"point": "p.电表.1", "ts": T0, "value": 1.5, "q": "good"},
    {"point": "p2", "ts": T0 + 1, "value": -0.0},
    {"point": "p3", "ts": T0 + 2, "value": 5e-324, "q": "suspect"},
    {"point": "p4", "ts": T0 + 3, "value": 1.7976931348623157e308, "q": "bad"},
    {"point": "p5", "ts": 946_684_799_999, "value": 2**53 + 1},  # before 2000, an int value
    {"point": "p6", "ts": 0, "value": -123456.789},
    {"point": "p7", "ts": -1, "value": 0.1},
    # the staged path's float interval arithmetic is exact until 2255 (2**53 us); COPY always
    {"point": "p''8", "ts": 7_258_118_399_999, "value": 3},
]


def records(values: list[bytes], topic: str = TOPIC_READINGS) -> list[Record]:
    return [Record(topic, 0, i, v, T0) for i, v in enumerate(values)]


def dump_readings(dsn: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT point, ts, value::text, q, device, seq, sent_ts FROM readings_raw"
            " ORDER BY point, ts"
        ).fetchall()


def dump_dlq(dsn: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT * FROM dlq ORDER BY digest").fetchall()


def test_binary_copy_stores_what_the_staged_path_stored(fresh_dsn: Callable[[], str]) -> None:
    values = [
        batch("gw-1", 1, EDGE_READINGS[:4]),
        batch("gw-2", 2**40, EDGE_READINGS[4:], sent_ms=-5),
        # unreadable records go to the DLQ whole on both paths, none of their readings stored
        batch("gw-3", 3, [{"point": "x", "ts": T0, "value": None}]),
        batch("gw-3", 4, [{"point": "y", "ts": T0, "value": 1.0}, {"point": 9, "ts": T0, "value": 1}]),
        batch("gw-3", 5, [{"point": "z", "ts": 1.5, "value": 1.0}]),
        b'{"device": "gw-3"',
    ]  # fmt: skip
    dumps = []
    for direct in (True, False):
        dsn = fresh_dsn()
        migrate(dsn, "plain")
        with psycopg.connect(dsn, autocommit=True) as conn:
            counts = Writer(conn, direct=direct).write(records(values))
        assert counts.rejected == 4 and counts.fallbacks == 0
        dumps.append((dump_readings(dsn), dump_dlq(dsn)))
    assert dumps[0] == dumps[1]
    readings, dlq = dumps[0]
    assert len(readings) == len(EDGE_READINGS) and len(dlq) == 4
    by_point = {r[0]: r for r in readings}
    assert by_point["p2"][2] == "-0" and by_point["p3"][2] == "5e-324"
    assert by_point["p2"][3] == "good"  # q defaults to good
    assert float(by_point["p5"][2]) == float(2**53 + 1)  # type: ignore[arg-type]
    assert by_point["p7"][1].isoformat() == "1969-12-31T23:59:59.999000+00:00"  # type: ignore[attr-defined]


def test_records_below_the_stored_offsets_are_skipped(fresh_dsn: Callable[[], str]) -> None:
    dsn = fresh_dsn()
    migrate(dsn, "plain")
    first = records([batch("gw", 1, [{"point": "p", "ts": T0, "value": 1.0}])])
    with psycopg.connect(dsn, autocommit=True) as conn:
        w = Writer(conn, "g1")
        assert w.write(first).rows == {"readings_raw": 1}
        assert w.stored_offsets([(TOPIC_READINGS, 0), (TOPIC_READINGS, 1)]) == {
            (TOPIC_READINGS, 0): 1
        }
        assert w.write(first).skipped == 1
        # another group keeps its own offsets; the table's key keeps the first copy
        other = Writer(conn, "g2").write(
            records([batch("gw", 1, [{"point": "p", "ts": T0, "value": 2.0}])])
        )
        assert other.skipped == 0 and other.fallbacks == 1
        # a new record with a stored key and a new one: the first copy stays, the new is added
        dup = Record(TOPIC_READINGS, 0, 1, batch("gw", 2, [
            {"point": "p", "ts": T0, "value": 3.0}, {"point": "p", "ts": T0 + 1, "value": 4.0}]), T0)  # fmt: skip
        assert w.write([dup]).fallbacks == 1
    assert [(r[0], r[2]) for r in dump_readings(dsn)] == [("p", "1"), ("p", "4")]


def test_a_crash_between_the_database_and_kafka_commits_stores_each_reading_once(
    drained: Settings, fresh_dsn: Callable[[], str]
) -> None:
    from kafka import KafkaProducer  # type: ignore[import-untyped]

    dsn = fresh_dsn()
    migrate(dsn, "plain")
    device = f"gw-{uuid.uuid4().hex[:6]}"
    n = 40
    producer = KafkaProducer(bootstrap_servers=drained.bootstrap)
    for seq in range(n):
        readings = [
            {"point": f"p{i}", "ts": T0 + seq * 1000, "value": seq + i / 10} for i in range(5)
        ]
        producer.send(
            TOPIC_READINGS, batch(device, seq, readings), key=f"{device}-{seq % 3}".encode()
        )
    producer.flush()
    producer.close()

    group = f"sink-{uuid.uuid4().hex[:6]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        sink = Sink(
            drained.bootstrap, conn, group_id=group, topics=(TOPIC_READINGS,), max_records=7
        )
        written = 0
        try:
            for _ in range(60):
                counts = sink.poll_write()
                written += counts.rows.get("readings_raw", 0) if counts else 0
                if written >= n * 5:
                    break
        finally:
            sink.close()  # the crash: the database committed, Kafka never did
    assert written == n * 5

    # the restarted sink starts at the database's offsets: nothing is read or written twice
    totals = run_sink(drained.bootstrap, dsn, group_id=group, topics=(TOPIC_READINGS,),
                      max_records=7, idle_exit_s=3.0)  # fmt: skip
    assert totals.rows == {} and totals.skipped == 0 and totals.fallbacks == 0
    with psycopg.connect(dsn) as conn:
        (count, distinct) = conn.execute(
            "SELECT count(*), count(DISTINCT (point, ts)) FROM readings_raw WHERE device = %s",
            (device,),
        ).fetchone()  # type: ignore[misc]
    assert count == distinct == n * 5


def test_records_not_from_kafka_are_written_without_offsets(fresh_dsn: Callable[[], str]) -> None:
    dsn = fresh_dsn()
    migrate(dsn, "plain")
    plain = (TOPIC_READINGS, batch("gw", 1, [{"point": "p", "ts": T0, "value": 1.0}]), T0)
    with psycopg.connect(dsn, autocommit=True) as conn:
        w = Writer(conn)
        assert w.write([plain]).rows == {"readings_raw": 1}
        again = w.write([plain])  # nothing to skip by: the table's key keeps the first copy
        assert again.skipped == 0 and again.fallbacks == 1
        assert conn.execute("SELECT count(*) FROM sink_offsets").fetchone() == (0,)
    assert len(dump_readings(dsn)) == 1
