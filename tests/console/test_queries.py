"""The query API over the seeded results (conftest): golden numbers checked by hand."""

from __future__ import annotations

from typing import Any

import pytest
from consolekit import HENGLI_ALERT, HOUR, T0, ConsoleEnv

pytestmark = pytest.mark.integration


def get(client: Any, env: ConsoleEnv, who: str, path: str, **params: Any) -> Any:
    resp = client.get(f"/api/v1/{path}", params=params, headers=env.auth(who))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_registry(client: Any, console_env: ConsoleEnv) -> None:
    park = get(client, console_env, "admin", "park")
    assert park["id"] == "demo-park" and park["enterprises"] == 3
    assert get(client, console_env, "acme", "park")["enterprises"] == 1
    ents = get(client, console_env, "admin", "enterprises")["items"]
    assert [e["id"] for e in ents] == ["acme", "hengli", "sunrise"]
    stacks = get(client, console_env, "admin", "stacks", enterprise="hengli")["items"]
    assert [s["id"] for s in stacks] == ["hengli-stk1"]
    points = {p["id"]: p for p in get(client, console_env, "admin", "points")["items"]}
    # the streams' inventory rule: the level-1 incomer counts, the line meter and kW do not
    assert points["acme.grid.kwh"]["inventory"] is True
    assert points["acme.synth.kwh"]["inventory"] is False
    assert points["acme.grid.kw"]["inventory"] is False


def test_consumption_totals_use_inventory_points(client: Any, console_env: ConsoleEnv) -> None:
    rows = get(client, console_env, "admin", "energy/consumption", enterprise="acme")["items"]
    by = {r["carrier"]: r for r in rows if r["use"] != "feedstock"}
    feed = next(r for r in rows if r["use"] == "feedstock")
    # electricity: only acme.grid.kwh (2 x 30 kWh); the 10 kWh line meter is under it
    assert by["electricity"]["quantity"] == pytest.approx(60.0)
    assert by["electricity"]["kgce"] == pytest.approx(7.374)
    # natural gas: boiler fuel 20 Nm3, feedstock 40 Nm3 apart
    assert by["natural_gas"]["quantity"] == pytest.approx(20.0)
    assert feed["quantity"] == pytest.approx(40.0) and feed["carrier"] == "natural_gas"
    level2 = get(client, console_env, "admin", "energy/consumption", enterprise="acme",
                 carrier="electricity", level=2)["items"]  # fmt: skip
    assert [r["quantity"] for r in level2] == [pytest.approx(10.0)]
    unit = get(client, console_env, "admin", "energy/consumption", unit="acme.boiler-house",
               by_point=True)["items"]  # fmt: skip
    # the boiler house and its child boiler-1: gas, steam t, steam GJ
    assert sorted(r["point"] for r in unit) == ["acme.boiler1.gas", "acme.steam.gj", "acme.steam.t"]


def test_consumption_history_buckets(client: Any, console_env: ConsoleEnv) -> None:
    rows = get(client, console_env, "admin", "energy/consumption", enterprise="hengli",
               bucket="hour", carrier="electricity")["items"]  # fmt: skip
    # hour 0: import 100 kWh and export 5 kWh (both inventory), hour 1: import 100 kWh
    assert [(r["bucket_ms"], r["use"], r["quantity"]) for r in rows] == [
        (T0, "exported", pytest.approx(5.0)), (T0, "purchased", pytest.approx(100.0)),
        (T0 + HOUR, "purchased", pytest.approx(100.0))]  # fmt: skip
    first_hour = get(client, console_env, "admin", "energy/consumption", enterprise="hengli",
                     start_ms=T0, end_ms=T0 + HOUR)["items"]  # fmt: skip
    assert sum(r["quantity"] for r in first_hour) == pytest.approx(105.0)


def test_tce_and_intensity(client: Any, console_env: ConsoleEnv) -> None:
    tce = {r["enterprise"]: r for r in get(client, console_env, "admin", "energy/tce")["items"]}
    # acme: electricity 7.374 + boiler gas 26.6 + feedstock 53.2 = 87.174 kgce
    assert tce["acme"]["tce"] == pytest.approx(0.087174)
    assert tce["acme"]["feedstock_tce"] == pytest.approx(0.0532)
    assert tce["acme"]["tce_excl_feedstock"] == pytest.approx(0.033974)
    # hengli: 2 x 12.29 imported - 0.6145 exported = 23.9655 kgce
    assert tce["hengli"]["tce"] == pytest.approx(0.0239655)
    day = 24 * HOUR
    rows = get(client, console_env, "admin", "energy/intensity", enterprise="acme",
               start_ms=T0, end_ms=T0 + day)["items"]  # fmt: skip
    r = rows[0]
    # a day of 42,000 x 10^4 CNY/year = 115.068... x 10^4 CNY; 120,000 t/year = 328.767 t
    assert r["output_value_1e4_cny"] == pytest.approx(42000 / 365)
    assert r["tce_per_1e4_cny"] == pytest.approx(0.087174 / (42000 / 365))
    assert r["products"][0]["tce_per_unit"] == pytest.approx(0.087174 / (120000 / 365))


def test_emissions_by_scope_category_source(client: Any, console_env: ConsoleEnv) -> None:
    rows = get(client, console_env, "admin", "emissions", group_by=["enterprise", "scope"])
    got = {(r["enterprise"], r["scope"]): r["co2e_t"] for r in rows["items"]}
    # measured (CEMS) 0.5 t is never added to calculated
    assert got == {("acme", 1): pytest.approx(0.0432), ("acme", 2): pytest.approx(0.0344),
                   ("hengli", 2): pytest.approx(0.0570)}  # fmt: skip
    src = get(client, console_env, "admin", "emissions", enterprise="acme",
              group_by=["source", "factor_id"])["items"]  # fmt: skip
    assert {(r["source"], r["factor_id"]) for r in src} == {
        ("acme.grid.kwh", "grid-ec"), ("acme.boiler1.gas", "ng")}  # fmt: skip
    measured = get(client, console_env, "admin", "emissions", method="measured")["items"]
    assert [(r["enterprise"], r["co2e_t"]) for r in measured] == [("acme", pytest.approx(0.5))]
    trend = get(client, console_env, "admin", "emissions", bucket="hour", group_by=["enterprise"],
                enterprise="acme")["items"]  # fmt: skip
    assert [(r["bucket_ms"], r["co2e_t"]) for r in trend] == [(T0, pytest.approx(0.0776))]


def test_flow_and_balance(client: Any, console_env: ConsoleEnv) -> None:
    flow = get(client, console_env, "admin", "energy/flow", enterprise="acme")
    links = {(x["source"], x["target"]): x["tce"] for x in flow["links"]}
    assert links[("src:natural_gas:fuel", "area:acme.boiler-house")] == pytest.approx(0.0266)
    assert links[("area:acme.boiler-house", "loss:conversion")] == pytest.approx(0.0066)
    # incomer 7.374 kgce minus the synthesis line's 1.229 kgce
    assert links[("dist:electricity", "loss:unmetered")] == pytest.approx(0.006145)
    for row in flow["balance"]:
        assert row["input_tce"] + row["generated_tce"] == pytest.approx(
            row["to_conversion_tce"] + row["exported_tce"] + row["end_use_metered_tce"]
            + row["unmetered_and_losses_tce"])  # fmt: skip


def test_cems_hourly(client: Any, console_env: ConsoleEnv) -> None:
    rows = get(client, console_env, "admin", "cems/hourly", stack="hengli-stk1")["items"]
    assert [(r["stack"], r["hour_start_ms"], r["co2_t"]) for r in rows] == [
        ("hengli-stk1", T0, 0.5)]  # fmt: skip


def test_alert_history_ack_and_comments(client: Any, console_env: ConsoleEnv) -> None:
    rows = get(client, console_env, "admin", "alerts")["items"]
    assert len(rows) == 5  # one per alert id (the cleared one included)
    by = {r["alert_id"]: r for r in rows}
    assert by[HENGLI_ALERT]["enterprise"] == "hengli" and not by[HENGLI_ALERT]["active"]
    assert by[HENGLI_ALERT]["cleared_ms"] == T0 + 10 * 60_000
    assert by["device-silent-10m:hengli-dcs:2"]["enterprise"] == "hengli"
    assert by["park-co2e-24h:demo-park:5"]["enterprise"] is None
    active = get(client, console_env, "admin", "alerts", state="active")["items"]
    assert HENGLI_ALERT not in {r["alert_id"] for r in active} and len(active) == 4
    acme_ids = {r["alert_id"] for r in get(client, console_env, "acme", "alerts")["items"]}
    assert acme_ids == {"enterprise-co2e-1h:acme:3", "point-counter-anomaly:acme.grid.kwh:4"}

    aid = "enterprise-co2e-1h:acme:3"
    h = console_env.auth("acme")
    resp = client.post(f"/api/v1/alerts/{aid}/ack", json={"note": "on it"}, headers=h)
    assert resp.status_code == 200 and resp.json()["ack_by"] == "acme"
    again = client.post(
        f"/api/v1/alerts/{aid}/ack", json={"note": "x"}, headers=console_env.auth("admin")
    )
    assert again.json()["ack_by"] == "acme"  # the first acknowledgement stands
    resp = client.post(f"/api/v1/alerts/{aid}/comments", json={"body": "boiler retuned"}, headers=h)
    assert resp.status_code == 201
    one = get(client, console_env, "auditor", f"alerts/{aid}")
    assert [c["body"] for c in one["comment_list"]] == ["boiler retuned"]
    assert [e["state"] for e in one["events"]] == ["raised"]
    # the auditor reads but may not write
    denied = client.post(f"/api/v1/alerts/{aid}/comments", json={"body": "x"},
                         headers=console_env.auth("auditor"))  # fmt: skip
    assert denied.status_code == 403


def test_subscriptions_hide_secrets(client: Any, console_env: ConsoleEnv) -> None:
    h = console_env.auth("acme")
    resp = client.post("/api/v1/subscriptions", headers=h,
                       json={"channel": "webhook", "target": "http://93.184.215.14/x"})  # fmt: skip
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["enterprise"] == "acme" and len(created["secret"]) >= 32
    listed = get(client, console_env, "acme", "subscriptions")["items"]
    assert all("secret" not in s for s in listed)
    assert client.delete(f"/api/v1/subscriptions/{created['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/subscriptions/{created['id']}", headers=h).status_code == 404
    bad = client.post(
        "/api/v1/subscriptions", headers=h, json={"channel": "webhook", "target": "x"}
    )
    assert bad.status_code == 422 and "http" in bad.json()["detail"]


def test_vendor_publishes_only_its_devices(client: Any, console_env: ConsoleEnv) -> None:
    h = console_env.auth("vendor")
    assert client.get("/api/v1/park", headers=h).status_code == 403
    batch = {"device": "hengli-gw", "seq": 1, "sent_ms": T0,
             "readings": [{"point": "hengli.pv.kwh", "ts": T0, "value": 1.0}]}  # fmt: skip
    assert client.post("/api/v1/readings", json=batch, headers=h).status_code == 403
    wrong_point = {**batch, "device": "acme-m1",
                   "readings": [{"point": "hengli.pv.kwh", "ts": T0, "value": 1.0}]}  # fmt: skip
    resp = client.post("/api/v1/readings", json=wrong_point, headers=h)
    assert resp.status_code == 422 and "hengli.pv.kwh" in resp.json()["detail"]
