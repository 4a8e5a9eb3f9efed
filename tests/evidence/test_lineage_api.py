"""Lineage through the console API: a reported figure adds up from its records, every record
reaches raw readings with evidence hashes, and another enterprise's figure is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from console.auth import create_token
from console.registry import load_registry
from evidence.factors import sync
from evidence.ledger import Ledger, RawRecord
from evidence.records import seal_records
from ingest.contract import TOPIC_CONSUMPTION, TOPIC_EMISSIONS, TOPIC_READINGS
from ingest.park.loader import load_park
from nengtan.settings import Settings, load_settings
from store.sink import Writer

pytestmark = pytest.mark.integration

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
MIN = 60_000


def fill(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    sink, raw = [], []
    for n, (ent, point) in enumerate((("acme", "acme.grid.kwh"), ("hengli", "hengli.grid.kwh"))):
        for i in range(11):  # counter readings at minutes 0..10 -> 10 one-minute intervals
            payload = json.dumps({"schema": "nt.readings/1", "device": f"{ent}-m1", "seq": i,
                                  "sent_ms": T0 + i * MIN, "readings": [{"point": point,
                                  "ts": T0 + i * MIN, "value": 100.0 + 6.0 * i}]}).encode()  # fmt: skip
            sink.append((TOPIC_READINGS, payload, T0))
            raw.append(RawRecord(n, i, f"{ent}-m1".encode(), payload))
        for i in range(10):
            s = T0 + i * MIN
            sink.append((TOPIC_CONSUMPTION, json.dumps({"point": point, "enterprise": ent,
                "carrier": "electricity", "start_ms": s, "end_ms": s + MIN, "quantity": 6.0,
                "uom": "kWh", "kgce": 6.0 * 0.1229}).encode(), T0))  # fmt: skip
            sink.append((TOPIC_EMISSIONS, json.dumps({"source": point, "enterprise": ent,
                "category": "purchased_electricity", "scope": 2, "start_ms": s, "end_ms": s + MIN,
                "co2e_t": 6.0 * 0.000581, "gases": {"CO2": 6.0 * 0.000581},
                "factor_id": "grid.national.2021.mee-2022-111", "method": "calculated"}).encode(), T0))  # fmt: skip
    Writer(conn).write(sink)
    ledger = Ledger(conn, block=4)
    ledger.append(raw)
    ledger.seal(flush=True)
    seal_records(conn, T0 + 3_600_000)
    sync(conn, "tester")


@pytest.fixture
def client(db: str, stack_settings: Settings) -> Iterator[tuple[Any, dict[str, str]]]:
    from fastapi.testclient import TestClient

    from console.app import create_app
    from console.settings import ConsoleSettings

    with psycopg.connect(db, autocommit=True) as conn:
        fill(conn)
        load_registry(conn, load_park(Path(__file__).parents[2] / "examples" / "park-small.yaml"))
        tokens = {who: create_token(conn, role, ent, who)[1]
                  for who, role, ent in (("acme", "enterprise", "acme"), ("admin", "admin", None))}  # fmt: skip
    settings = load_settings(pg_dsn=db, kafka_bootstrap=stack_settings.bootstrap,
                             state_dir=stack_settings.state_dir)  # fmt: skip
    app = create_app(settings, ConsoleSettings())
    with TestClient(app) as c:
        yield c, tokens


def test_monthly_figure_traces_to_raw_readings(client: tuple[Any, dict[str, str]]) -> None:
    c, tokens = client
    h = {"Authorization": f"Bearer {tokens['acme']}"}
    resp = c.get("/api/v1/lineage/enterprise/acme", params={"year": 2026, "month": 1, "detail": True},
                 headers=h)  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    # 10 minutes × 6 kWh × 0.000581 t/kWh = 0.03486 t
    assert body["figure"]["co2e_t"] == pytest.approx(0.03486, rel=1e-12)
    assert body["figure"]["co2e_t"] == pytest.approx(
        sum(r["co2e_t"] for r in body["detail"]["emission_records"]), rel=1e-15)
    assert all(r["leaf_hash"] and r["seal_root"] for r in body["detail"]["emission_records"])
    assert [cons["quantity"] for cons in body["consumption"]] == [60.0]
    raw = body["detail"]["raw_readings"]
    assert [r["ts_ms"] for r in raw] == [T0 + i * MIN for i in range(11)]
    assert all(len(r["batch_hash"]) == 64 and r["seal_root"] for r in raw)
    (factor,) = body["factors"]
    assert factor["version_in_force"] == 1
    assert factor["versions"][0]["provenance"]["source"]
    assert "hengli" not in resp.text
    # the summary computed in the database (no detail) says the same
    quick = c.get("/api/v1/lineage/enterprise/acme", params={"year": 2026, "month": 1},
                  headers=h).json()  # fmt: skip
    assert "detail" not in quick
    assert quick["figure"] == body["figure"]
    assert quick["sources"] == body["sources"] and quick["sources"][0]["sealed"] == 10
    assert quick["consumption"] == body["consumption"] and quick["raw"] == body["raw"]


def test_another_enterprises_figure_is_refused(client: tuple[Any, dict[str, str]]) -> None:
    c, tokens = client
    h = {"Authorization": f"Bearer {tokens['acme']}"}
    assert c.get("/api/v1/lineage/enterprise/hengli", headers=h).status_code == 403
    assert c.get("/api/v1/lineage/source/hengli.grid.kwh", headers=h).status_code == 404  # as a missing one
    assert c.get("/api/v1/lineage/enterprise/acme").status_code == 401
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    got = c.get("/api/v1/lineage/source/hengli.grid.kwh",
                params={"start_ms": T0, "end_ms": T0 + 5 * MIN}, headers=admin)  # fmt: skip
    assert got.status_code == 200 and got.json()["figure"]["n_emission_records"] == 5
