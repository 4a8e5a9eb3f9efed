"""Subscriptions that could reach inside the park are refused when created (the console API
on a real PostgreSQL): Kafka topics of the pipeline and the stream worker's changelog, webhooks
to the database's port and every inside range, names resolving to loopback, e-mail targets
carrying header syntax; an administrator's allow-list and Kafka grants admit exactly what they
name, and only an administrator sets them."""

from __future__ import annotations

from typing import Any

import pytest
from consolekit import ConsoleEnv

pytestmark = pytest.mark.integration

REFUSED: list[dict[str, Any]] = [
    {"channel": "kafka", "target": "nt.readings.v1"},
    {"channel": "kafka", "target": "nt.alerts.v1"},
    {"channel": "kafka", "target": "nengtan-streams-enterprise_window-changelog"},
    {"channel": "kafka", "target": "nt.tenant.hengli.alerts"},
    {"channel": "kafka", "target": "__consumer_offsets"},
    {"channel": "webhook", "target": "http://127.0.0.1:5433/"},
    {"channel": "webhook", "target": "http://localhost:9092/"},
    {"channel": "webhook", "target": "http://2130706433:1883/"},
    {"channel": "webhook", "target": "http://10.0.0.5/hook"},
    {"channel": "webhook", "target": "http://172.20.0.1/hook"},
    {"channel": "webhook", "target": "http://192.168.10.1/hook"},
    {"channel": "webhook", "target": "http://169.254.169.254/latest/meta-data"},
    {"channel": "webhook", "target": "http://100.100.100.200/"},
    {"channel": "webhook", "target": "http://0.0.0.0:8480/"},
    {"channel": "webhook", "target": "http://[::1]:8480/"},
    {"channel": "webhook", "target": "http://[::ffff:127.0.0.1]:5433/"},
    {"channel": "webhook", "target": "http://[fd00::1]/"},
    {"channel": "webhook", "target": "http://[fe80::1]/"},
    {"channel": "webhook", "target": "http://[ff02::1]/"},
    {"channel": "email", "target": "ops@acme.example\r\nBcc: everyone@evil.example"},
    {"channel": "email", "target": "a@acme.example, b@evil.example"},
    {"channel": "mqtt", "target": "nt/v1/alerts/hengli/#"},
]


@pytest.mark.parametrize("spec", REFUSED, ids=lambda s: f"{s['channel']}:{s['target'][:40]}")
def test_inside_targets_refused(client: Any, console_env: ConsoleEnv, spec: dict[str, Any]) -> None:
    resp = client.post("/api/v1/subscriptions", json=spec, headers=console_env.auth("acme"))
    assert resp.status_code == 422, resp.text
    assert "target" in resp.json()["detail"]


def test_tenant_defaults_and_own_prefix_accepted(client: Any, console_env: ConsoleEnv) -> None:
    acme = console_env.auth("acme")
    made = client.post("/api/v1/subscriptions", json={"channel": "kafka"}, headers=acme)
    assert made.status_code == 201 and made.json()["target"] == "nt.tenant.acme.alerts"
    own = {"channel": "kafka", "target": "nt.tenant.acme.erp-feed"}
    assert client.post("/api/v1/subscriptions", json=own, headers=acme).status_code == 201
    listed = client.get(f"/api/v1/subscriptions/{made.json()['id']}", headers=acme).json()
    assert listed["health"] == "ok" and listed["failures"] == 0 and listed["last_error"] is None


def test_admin_allow_list_and_grants(client: Any, console_env: ConsoleEnv) -> None:
    acme, admin = console_env.auth("acme"), console_env.auth("admin")
    hook = {"channel": "webhook", "target": "http://127.0.0.1:18080/hook"}
    grant = {"enterprise": "acme", "prefix": "erp.acme."}
    allow = {"network": "127.0.0.1/32", "port": 18080, "note": "test receiver"}
    # an enterprise user can neither allow nor grant
    assert client.post("/api/v1/delivery/allow-list", json=allow, headers=acme).status_code == 403
    assert client.post("/api/v1/delivery/kafka-grants", json=grant, headers=acme).status_code == 403
    assert client.post("/api/v1/subscriptions", json=hook, headers=acme).status_code == 422

    made = client.post("/api/v1/delivery/allow-list", json=allow, headers=admin)
    assert made.status_code == 201, made.text
    assert client.post("/api/v1/subscriptions", json=hook, headers=acme).status_code == 201
    other_port = {**hook, "target": "http://127.0.0.1:5433/"}
    assert client.post("/api/v1/subscriptions", json=other_port, headers=acme).status_code == 422
    assert client.get("/api/v1/delivery/allow-list", headers=acme).status_code == 403
    entries = client.get("/api/v1/delivery/allow-list", headers=console_env.auth("auditor"))
    assert [e["network"] for e in entries.json()["items"]] == ["127.0.0.1/32"]
    gone = client.delete(f"/api/v1/delivery/allow-list/{made.json()['id']}", headers=admin)
    assert gone.status_code == 204
    assert client.post("/api/v1/subscriptions", json=hook, headers=acme).status_code == 422

    erp = {"channel": "kafka", "target": "erp.acme.alarms"}
    assert client.post("/api/v1/subscriptions", json=erp, headers=acme).status_code == 422
    g = client.post("/api/v1/delivery/kafka-grants", json=grant, headers=admin)
    assert g.status_code == 201, g.text
    assert client.post("/api/v1/subscriptions", json=erp, headers=acme).status_code == 201
    hengli = console_env.auth("hengli")
    erp_other = {"channel": "kafka", "target": "erp.acme.alarms"}
    assert client.post("/api/v1/subscriptions", json=erp_other, headers=hengli).status_code == 422
    assert client.get("/api/v1/delivery/kafka-grants", headers=hengli).json()["count"] == 0
    assert client.get("/api/v1/delivery/kafka-grants", headers=acme).json()["count"] == 1
