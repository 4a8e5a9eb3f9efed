"""The management edge against the real services: metered days from the ``consumption`` table,
the inputs document, alerts on ``nt.alerts.v1`` (real Kafka) and their saved state."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest.contract import TOPIC_ALERTS
from management import db
from management.evaluate import evaluate
from nengtan.settings import Settings
from store.migrate import migrate

pytestmark = pytest.mark.integration


@pytest.fixture
def dsn(stack_settings: Settings) -> Iterator[str]:
    name = f"nt_mgmt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(stack_settings.dsn)
    params["dbname"] = name
    out = make_conninfo(**params)
    migrate(out)
    yield out
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _load(conn: psycopg.Connection[Any], model: Any, metered: Any) -> None:
    """Write the scenario's daily quantities as one consumption record per point-day."""
    rows = []
    for point, days in metered.daily.items():
        info = model.table.points[point]
        for d, q in days.items():
            start = datetime(d.year, d.month, d.day, tzinfo=UTC)
            rows.append((point, info.enterprise, info.carrier, start, start + timedelta(days=1),
                         q, info.quantity_uom, 0.0))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO consumption VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)


def _read_alerts(bootstrap: str, ids: set[str], want: int,
                 timeout_s: float = 30.0) -> list[dict[str, Any]]:  # fmt: skip
    from kafka import KafkaConsumer, TopicPartition  # type: ignore[import-untyped]

    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        deadline = time.monotonic() + timeout_s
        parts = None
        while not parts and time.monotonic() < deadline:
            parts = consumer.partitions_for_topic(TOPIC_ALERTS)
            time.sleep(0.1)
        tps = [TopicPartition(TOPIC_ALERTS, p) for p in sorted(parts or [])]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list[dict[str, Any]] = []
        while time.monotonic() < deadline and len(out) < want:
            for recs in consumer.poll(timeout_ms=300).values():
                for r in recs:
                    v = json.loads(r.value)
                    if v["alert_id"] in ids:
                        v["_key"] = r.key.decode()
                        out.append(v)
        # read a little longer: nothing beyond ``want`` may arrive
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            for recs in consumer.poll(timeout_ms=200).values():
                out.extend(json.loads(r.value) | {"_key": r.key.decode()} for r in recs
                           if json.loads(r.value)["alert_id"] in ids)
        return out
    finally:
        consumer.close()


def test_metered_from_store_equals_scenario(dsn, model, metered) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        _load(conn, model, metered)
        back = db.load_metered(conn, date(2026, 1, 1), date(2026, 1, 31))
    e1 = model.energy("acme", back, date(2026, 1, 1), date(2026, 1, 31))
    e0 = model.energy("acme", metered, date(2026, 1, 1), date(2026, 1, 31))
    assert e1.kgce == pytest.approx(e0.kgce, rel=1e-12)
    assert e1.kgce == pytest.approx(3_937_668.66, rel=1e-12)
    assert back.total("acme.grid.kwh", date(2025, 1, 1), date(2025, 12, 31)) == 0


def test_inputs_document_roundtrip_with_history(dsn, inputs) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        db.save_inputs(conn, inputs, "admin-token", "load demo-park.yaml")
        assert db.load_inputs(conn, "demo-park") == inputs
        n = conn.execute("SELECT count(*) FROM mgmt_inputs_history").fetchone()
    assert n is not None and n[0] == 1


def test_alerts_reach_the_topic_once(dsn, stack_settings, model, inputs, metered_until) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        _load(conn, model, metered_until(date(2026, 1, 31)))
        as_of = date(2026, 1, 20)
        m20 = db.load_metered(conn, date(2025, 1, 1), as_of)
        first = evaluate(conn, stack_settings.bootstrap, model, inputs, m20, as_of)
        assert {a.rule_id for a in first} == {"mgmt.budget_forecast", "mgmt.compliance_gap"}
        assert len(first) == 3
        # evaluated again (a restart, the next hour): no new record
        assert evaluate(conn, stack_settings.bootstrap, model, inputs, m20, as_of) == []
        end = date(2026, 1, 31)
        m31 = db.load_metered(conn, date(2025, 1, 1), end)
        second = evaluate(conn, stack_settings.bootstrap, model, inputs, m31, end)
        assert [(a.state, a.scope) for a in second] == [("cleared", "enterprise:acme")]
        state = db.active_alerts(conn)
    ids = {a.alert_id for a in first}
    seen = _read_alerts(stack_settings.bootstrap, ids, want=4)
    pairs = sorted((r["_key"], r["rule_id"], r["state"]) for r in seen)
    assert pairs == [
        ("acme", "mgmt.budget_forecast", "cleared"),
        ("acme", "mgmt.budget_forecast", "raised"),
        ("hengli", "mgmt.compliance_gap", "raised"),
        ("sunrise", "mgmt.budget_forecast", "raised"),
    ]
    assert set(state) == {"mgmt.budget_forecast:sunrise-2026-01-co2",
                          "mgmt.compliance_gap:hengli:2026"}


def test_pollutant_tonnes_from_cems_hours(dsn) -> None:
    from management.periods import parse_period

    with psycopg.connect(dsn, autocommit=True) as conn:
        for h, (so2, nox) in enumerate(((2.0, 5.0), (3.0, 7.0))):
            conn.execute(
                "INSERT INTO cems_hourly VALUES (%s, %s, %s, 60, true, 1.0, NULL, %s::jsonb,"
                " '{}'::jsonb)",
                ("hengli-stk1", "hengli", datetime(2026, 1, 5, h, tzinfo=UTC),
                 json.dumps({"so2": so2, "nox": nox})))
        out = db.pollutants_t(conn, [parse_period("2026-01"), parse_period("2025-01")])
    # (2 + 3) kg SO2 = 0.005 t; (5 + 7) kg NOx = 0.012 t
    assert out == {"hengli": {"2026-01": {"so2": pytest.approx(0.005),
                                          "nox": pytest.approx(0.012)}}}
