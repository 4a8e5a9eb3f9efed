"""Migrations and the idempotent writer against the real PostgreSQL (session stack)."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
import pytest

from ingest.contract import TOPIC_ALERTS, TOPIC_CONSUMPTION, TOPIC_EMISSIONS, TOPIC_READINGS
from store import queries
from store.migrate import bundled_migrations, migrate, plan
from store.sink import Record, Writer
from store.tables import TOPIC_CEMS_HOURLY

pytestmark = pytest.mark.integration

ROLLUPS = [
    f"{t}_{lvl}" for t in ("consumption", "emissions") for lvl in ("hourly", "daily", "monthly")
]


def test_every_version_has_a_file_in_both_modes() -> None:
    migrations = bundled_migrations()
    assert [m.version for m in plan(migrations, "plain")] == [
        m.version for m in plan(migrations, "timescale")
    ]


def test_migrate_is_idempotent_and_records_mode(fresh_dsn: Callable[[], str]) -> None:
    dsn = fresh_dsn()
    mode, applied = migrate(dsn)
    # versions 0001-0099 are the store's; other packages add theirs from 0100 on
    assert applied[:4] == ["0001_core_tables", "0002_hypertables", "0003_rollups", "0004_policies"]
    assert applied == sorted(applied)
    assert migrate(dsn) == (mode, [])
    with queries.connect(dsn) as conn:
        names = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}  # fmt: skip
        assert {"readings_raw", "consumption", "emissions", "cems_hourly", "alerts", "dlq"} <= names
        assert set(ROLLUPS) <= names  # views (plain) or continuous aggregates (TimescaleDB)
        if mode == "timescale":
            assert {"readings_raw", "consumption", "emissions", "alerts"} <= set(
                queries.hypertables(conn)
            )
        else:
            assert queries.hypertables(conn) == []


_offsets: dict[str, int] = {}


def rec(topic: str, obj: dict[str, object]) -> Record:
    return raw(topic, json.dumps(obj).encode())


def raw(topic: str, value: bytes) -> Record:
    """A record at the next offset of ``topic``'s partition 0 (as Kafka would deliver it)."""
    offset = _offsets[topic] = _offsets.get(topic, -1) + 1
    return Record(topic, 0, offset, value, 1_767_571_200_000)


def redelivered(r: Record) -> Record:
    """The same payload as a new record (a producer's retry, a re-published input)."""
    return raw(r.topic, r.value or b"")


def consumption(q: float, start: int) -> Record:
    return rec(TOPIC_CONSUMPTION, {"point": "p1", "enterprise": "e1", "carrier": "electricity",
                                   "start_ms": start, "end_ms": start + 60_000, "quantity": q,
                                   "uom": "kWh", "kgce": q * 0.1229})  # fmt: skip


def test_replays_and_redeliveries_change_nothing(fresh_dsn: Callable[[], str]) -> None:
    dsn = fresh_dsn()
    migrate(dsn, "plain")
    t0 = 1_767_571_200_000
    batch = [
        consumption(1.0, t0), consumption(2.0, t0), consumption(3.0, t0 + 60_000),
        rec(TOPIC_READINGS, {"schema": "nt.readings/1", "device": "d", "seq": 1, "sent_ms": t0,
                             "readings": [{"point": "p1", "ts": t0, "value": 1.5, "q": "good"}]}),
        rec(TOPIC_EMISSIONS, {"source": "p1", "enterprise": "e1", "category": "purchased_electricity",
                              "scope": 2, "start_ms": t0, "end_ms": t0 + 60_000, "co2e_t": 0.5,
                              "gases": {"CO2": 0.5}, "factor_id": "f", "method": "calculated"}),
        rec(TOPIC_ALERTS, {"alert_id": "a", "rule_id": "r", "state": "raised", "severity": "major",
                           "scope": "stack:s.so2", "metric": "m", "value": 60.0, "threshold": 50.0,
                           "window": "15m", "ts": t0}),
        rec(TOPIC_CEMS_HOURLY, {"stack": "s", "enterprise": "e1", "hour_start_ms": t0, "n_valid": 60,
                                "valid": True, "co2_t": 7.07, "substitution": None,
                                "pollutant_kg": {"so2": 1.08}, "pollutant_avg_mg_m3": {"so2": 30.0}}),
        raw(TOPIC_EMISSIONS, b"{not json"),
    ]  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        w = Writer(conn)
        counts = w.write(batch)
        assert counts.rejected == 1
        snapshot = dump(conn)
        # the latest record of a key wins within a batch: 2.0 for the first minute
        assert queries.consumption_by_point(conn)["p1"][0] == pytest.approx(5.0)
        replay = w.write(batch)  # a replay of the same records: skipped by offset
        assert replay.skipped == len(batch) and replay.rows == {}
        # the same payloads delivered again as new records: the upserts change nothing
        again = w.write([redelivered(r) for r in reversed(batch[1:])])
        assert again.skipped == 0 and again.fallbacks == 1  # readings_raw keeps its first copy
        assert dump(conn) == snapshot
        assert queries.emissions_by_enterprise(conn) == {"e1": 0.5}
        assert queries.cems_hours(conn)[0]["co2_t"] == 7.07
        assert [a["state"] for a in queries.alerts(conn)] == ["raised"]
        assert [r[2] for r in queries.emissions_rollup(conn, "hourly")] == [0.5]
        (dlq,) = conn.execute("SELECT source, reason FROM dlq").fetchall()
        assert dlq[0] == "sink:nt.emissions.v1" and "could not be stored" in dlq[1]


def dump(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, list[tuple[object, ...]]]:
    tables = ("readings_raw", "consumption", "emissions", "cems_hourly", "alerts", "dlq")
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in tables}
