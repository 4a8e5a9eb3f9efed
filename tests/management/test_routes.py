"""The management API in the console app: figures, tenant scoping, writes, supply chain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from console.auth import create_token
from console.registry import load_registry
from console.settings import load_console_settings
from management import db
from nengtan.settings import Settings, load_settings
from store.migrate import migrate

pytestmark = pytest.mark.integration
PARK_FILE = Path(__file__).resolve().parents[2] / "examples" / "park-small.yaml"


@pytest.fixture(scope="module")
def env(stack_settings: Settings, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    from importlib import resources

    from ingest.park.loader import load_park
    from management.inputs import load_inputs
    from management.metered import EnergyModel

    name = f"nt_mgmt_api_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(stack_settings.dsn)
    params["dbname"] = name
    dsn = make_conninfo(**params)
    migrate(dsn)
    park = load_park(PARK_FILE)
    inputs = load_inputs(Path(str(resources.files("management") / "data" / "examples"
                                  / "demo-park.yaml")))
    scenario = request.getfixturevalue("metered_until")(date(2026, 1, 31))
    model = EnergyModel(park)
    tokens = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_registry(conn, park)
        for who, role, ent in (("admin", "admin", None), ("acme", "enterprise", "acme"),
                               ("vendor", "vendor", "acme")):
            tokens[who] = create_token(conn, role, ent, who)[1]
        db.save_inputs(conn, inputs, "test", "load", yaml.safe_load(PARK_FILE.read_text()))
        rows = []
        for point, days in scenario.daily.items():
            info = model.table.points[point]
            for d, q in days.items():
                start = datetime(d.year, d.month, d.day, tzinfo=UTC)
                rows.append((point, info.enterprise, info.carrier, start,
                             start + timedelta(days=1), q, info.quantity_uom, 0.0))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO consumption VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    host, port = stack_settings.mqtt_host_port
    settings = load_settings(pg_dsn=dsn, kafka_bootstrap=stack_settings.bootstrap,
                             mqtt_url=f"mqtt://{host}:{port}", state_dir=stack_settings.state_dir)
    yield {"settings": settings, "tokens": tokens, "dsn": dsn}
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def client(env: dict[str, Any]) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from console.app import create_app

    with TestClient(create_app(env["settings"], load_console_settings())) as c:
        yield c


def auth(env: dict[str, Any], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {env['tokens'][who]}"}


def test_figures_through_the_api(client: Any, env: dict[str, Any]) -> None:
    admin = auth(env, "admin")
    b = client.get("/api/v1/management/benchmark", params={"period": "2026-01"}, headers=admin)
    assert b.status_code == 200, b.text
    acme = next(r for r in b.json()["products"] if r["enterprise"] == "acme")
    assert acme["kgce_per_unit"] == pytest.approx(1125.0482, abs=1e-4)  # as the golden test
    assert {p["enterprise"] for p in b.json()["peers"]} == {"acme", "hengli", "sunrise"}
    bud = client.get("/api/v1/management/budgets", params={"as_of": "2026-01-20"},
                     headers=admin).json()
    acme_b = next(r for r in bud["items"] if r["budget_id"] == "acme-2026-01-energy")
    assert acme_b["forecast"] == pytest.approx(3912.2925, abs=1e-4)
    a = client.get("/api/v1/management/assets/hengli",
                   params={"period": "2026", "as_of": "2026-01-31"}, headers=admin).json()
    assert a["gap_t"] == pytest.approx(25_057.8289, abs=1e-4)
    f = client.get("/api/v1/management/footprints/acme",
                   params={"product": "synthetic ammonia", "period": "2026-01"},
                   headers=admin).json()
    assert f["green_delta_kgco2e"] == pytest.approx(-83.8429, abs=1e-4)
    r = client.get("/api/v1/management/footprints/acme/report", params={"period": "2026-01"},
                   headers=admin)
    assert r.status_code == 200 and "**Footprint: 1,932.8800 kgCO2e per 1 t**" in r.text
    an = client.get("/api/v1/management/analysis", params={"periods": "2025-01,2026-01"},
                    headers=admin)
    assert an.status_code == 200 and an.json()["recommendations"]


def test_enterprise_user_is_scoped(client: Any, env: dict[str, Any]) -> None:
    acme = auth(env, "acme")
    for path, params in (("/api/v1/management/benchmark", {"period": "2026-01"}),
                         ("/api/v1/management/budgets", {"as_of": "2026-01-20"}),
                         ("/api/v1/management/analysis", {"periods": "2025-01,2026-01"}),
                         ("/api/v1/management/inputs", {})):
        resp = client.get(path, params=params, headers=acme)
        assert resp.status_code == 200, (path, resp.text)
        assert "hengli" not in resp.text.lower() and "sunrise" not in resp.text.lower(), path
    for path in ("/api/v1/management/assets/hengli", "/api/v1/management/footprints/hengli",
                 "/api/v1/management/footprints/hengli/report"):
        assert client.get(path, headers=acme).status_code == 403
    body = {"id": "x", "from_budget": "hengli-2026-01-energy",
            "to_budget": "acme-2026-01-energy", "amount": 10, "day": "2026-01-26",
            "reason": "take from a neighbour"}
    assert client.post("/api/v1/management/reallocations", json=body,
                       headers=acme).status_code == 403
    assert client.put("/api/v1/management/inputs", json={"document": {}},
                      headers=acme).status_code == 403
    for path in ("/api/v1/management/benchmark", "/api/v1/management/budgets"):
        assert client.get(path).status_code == 401


def test_writes_are_validated_and_recorded(client: Any, env: dict[str, Any]) -> None:
    acme = auth(env, "acme")
    new = {"id": "acme-2026-02-energy", "scope": "acme", "period": "2026-02",
           "metric": "energy_tce", "amount": 3600}
    assert client.post("/api/v1/management/budgets", json=new, headers=acme).status_code == 201
    dup = client.post("/api/v1/management/budgets", json=new, headers=acme)
    assert dup.status_code == 422 and "exists" in dup.text
    bad = client.post("/api/v1/management/budgets", json={**new, "id": "b2", "scope": "nope"},
                      headers=acme)
    assert bad.status_code == 422 and "unknown scope 'nope'" in bad.text
    theirs = client.post("/api/v1/management/budgets",
                         json={**new, "id": "b3", "scope": "hengli.mill"}, headers=acme)
    assert theirs.status_code == 403
    entry = {"id": "l-x", "enterprise": "acme", "compliance_period": "2026",
             "day": "2026-02-01", "kind": "ccer_buy", "quantity_t": 10}
    assert client.post("/api/v1/management/ledger", json=entry, headers=acme).status_code == 201
    with psycopg.connect(env["dsn"]) as conn:
        changes = [r[0] for r in conn.execute(
            "SELECT change FROM mgmt_inputs_history ORDER BY id").fetchall()]
    assert changes[-2:] == ["add budget acme-2026-02-energy", "ledger ccer_buy 10.0 t"]


def test_supplier_submissions_with_evidence(client: Any, env: dict[str, Any]) -> None:
    vendor = auth(env, "vendor")
    rows = [
        {"supplier": "gasco", "enterprise": "acme", "material": "natural_gas", "period": "2026",
         "kind": "energy", "uom": "Nm3", "kgco2e_per_unit": 0.31, "basis": "supplier LCA"},
        {"supplier": "gasco", "enterprise": "hengli", "material": "natural_gas",
         "period": "2026", "uom": "Nm3", "kgco2e_per_unit": 0.31, "basis": "supplier LCA"},
    ]
    resp = client.post("/api/v1/management/supply/submissions", json=rows, headers=vendor)
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert [e["row"] for e in out["accepted"]] == [1]
    assert out["rejected"][0]["row"] == 2 and "not in the park" in out["rejected"][0]["reason"]
    csv_body = ("supplier,enterprise,material,period,kind,quantity,uom,kgco2e_per_unit,basis\n"
                "steelco,acme,tinplate,2026-01,material,5,t,2150,EPD\n")
    resp = client.post("/api/v1/management/supply/csv", content=csv_body.encode(),
                       headers={**vendor, "Content-Type": "text/csv"})
    assert resp.status_code == 201 and len(resp.json()["accepted"]) == 1
    ev = client.get("/api/v1/management/supply/evidence", headers=auth(env, "admin")).json()
    assert {(e["channel"], e["accepted"]) for e in ev["items"]} == {
        ("api", True), ("api", False), ("csv", True)}
    mine = client.get("/api/v1/management/supply/evidence", headers=auth(env, "acme")).json()
    assert all(e["enterprise"] == "acme" for e in mine["items"]) and mine["count"] == 2


def test_management_alert_reaches_a_subscription(env: dict[str, Any]) -> None:
    """A budget-overrun forecast and a compliance-gap forecast published on nt.alerts.v1 are
    each delivered by the console's delivery worker to a matching subscription, once."""
    import json
    import threading

    from kafka import KafkaConsumer  # type: ignore[import-untyped]
    from kafka.admin import KafkaAdminClient, NewTopic  # type: ignore[import-untyped]

    from console.auth import Scope
    from console.data import subscriptions
    from console.delivery.worker import run_delivery
    from ingest.park.loader import load_park
    from management.evaluate import evaluate
    from management.inputs import ManagementInputs
    from management.metered import EnergyModel

    s = env["settings"]
    run = uuid.uuid4().hex[:8]
    out_topic = f"nt.tenant.acme.mgmt-{run}"  # under each enterprise's own prefix
    gap_topic = f"nt.tenant.hengli.mgmt-gap-{run}"
    admin = KafkaAdminClient(bootstrap_servers=s.bootstrap)
    admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1)
                         for t in (out_topic, gap_topic)])
    admin.close()
    with psycopg.connect(env["dsn"], autocommit=True) as conn:
        subscriptions.create(conn, Scope("enterprise", "acme", "acme"),
                             {"channel": "kafka", "target": out_topic,
                              "rule_id": "mgmt.budget_forecast"}, "")
        subscriptions.create(conn, Scope("enterprise", "hengli", "hengli"),
                             {"channel": "kafka", "target": gap_topic,
                              "rule_id": "mgmt.compliance_gap"}, "")
        inputs = db.load_inputs(conn, "demo-park")
        assert isinstance(inputs, ManagementInputs)
        model = EnergyModel(load_park(PARK_FILE))
        as_of = date(2026, 1, 20)
        sent = evaluate(conn, s.bootstrap, model, inputs,
                        db.load_metered(conn, date(2025, 1, 1), as_of), as_of)
    acme_id = next(a.alert_id for a in sent if a.scope == "enterprise:acme")
    gap_id = next(a.alert_id for a in sent if a.rule_id == "mgmt.compliance_gap"
                  and a.scope == "enterprise:hengli")
    cs = load_console_settings(delivery_group=f"mgmt-test-{run}")
    for _ in range(2):  # a restarted worker re-reading the topic sends nothing again
        run_delivery(s.bootstrap, s.dsn, s.mqtt_host_port, cs, threading.Event(), idle_exit_s=4)
    def read(topic: str) -> list[dict[str, Any]]:
        consumer = KafkaConsumer(topic, bootstrap_servers=s.bootstrap, group_id=None,
                                 auto_offset_reset="earliest", consumer_timeout_ms=4000)
        try:
            return [json.loads(m.value) for m in consumer]
        finally:
            consumer.close()

    got = read(out_topic)
    # (other tests of the session publish the same deterministic ids, a ``cleared`` among them:
    # the topic is shared; count the raised change)
    mine = [g for g in got if g.get("alert_id") == acme_id and g["state"] == "raised"]
    assert len(mine) == 1, got
    assert mine[0]["rule_id"] == "mgmt.budget_forecast" and mine[0]["scope"] == "enterprise:acme"
    # the subscription filters by rule and enterprise: sunrise's budget and hengli's gap stay out
    assert all(g.get("rule_id") == "mgmt.budget_forecast" for g in got)
    gaps = read(gap_topic)
    assert [(g["alert_id"], g["state"]) for g in gaps] == [(gap_id, "raised")]
    assert gaps[0]["scope"] == "enterprise:hengli" and gaps[0]["value"] > gaps[0]["threshold"]


def test_walk_every_management_read_route(client: Any, env: dict[str, Any]) -> None:
    """Every GET route of the management API, with the inputs loaded, asked by acme's user for
    hengli's things: refused, or an answer that never mentions another enterprise."""
    from fastapi.routing import APIRoute, iter_route_contexts

    values = {"enterprise": "hengli", "period": "2026-01", "periods": "2025-01,2026-01",
              "as_of": "2026-01-20", "product": "hot-rolled steel"}
    walked = 0
    for ctx in iter_route_contexts(client.app.routes):
        route, path = ctx.original_route, ctx.path or ""
        if not isinstance(route, APIRoute) or not path.startswith("/api/v1/management"):
            continue
        if "GET" not in route.methods:
            continue
        url = path.replace("{enterprise}", "hengli")
        params = {q.name: values[q.name] for q in route.dependant.query_params
                  if q.name in values}
        if "/assets/" in path:
            params["period"] = "2026"  # a compliance year
        resp = client.get(url, params=params, headers=auth(env, "acme"))
        walked += 1
        if resp.status_code in (403, 404):
            continue
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
        text = resp.text.lower()
        assert "hengli" not in text and "sunrise" not in text, (path, resp.text[:300])
    assert walked >= 8
