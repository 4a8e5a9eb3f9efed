"""A stack's pollutant alerts (scope ``stack:<stack>.<species>``, as the stream worker writes
them) belong to the stack's enterprise: its token sees them, the other enterprise's does not."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from consolekit import T0, ConsoleEnv

from console.data.alerts import enterprise_of_scope

pytestmark = pytest.mark.integration

ALERT = "stack-pollutant-15m:acme-stk1.so2:99"


@pytest.fixture(scope="module")
def species_alert(console_env: ConsoleEnv) -> str:
    with psycopg.connect(console_env.dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO alerts (alert_id, rule_id, state, severity, scope, metric, value,"
            ' threshold, "window", ts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,'
            " 'epoch'::timestamptz + %s * INTERVAL '1 millisecond')",
            (ALERT, "stack-pollutant-15m", "raised", "major", "stack:acme-stk1.so2",
             "so2_avg_mg_m3", 80.0, 50.0, "15m", T0 + 30 * 60_000),
        )  # fmt: skip
    return ALERT


def test_owner_sees_its_stack_species_alert(
    client: Any, console_env: ConsoleEnv, species_alert: str
) -> None:
    listed = client.get("/api/v1/alerts", headers=console_env.auth("acme"))
    assert listed.status_code == 200
    mine = [a for a in listed.json()["items"] if a["alert_id"] == species_alert]
    assert len(mine) == 1 and mine[0]["enterprise"] == "acme"
    one = client.get(f"/api/v1/alerts/{species_alert}", headers=console_env.auth("acme"))
    assert one.status_code == 200
    ack = client.post(
        f"/api/v1/alerts/{species_alert}/ack", json={"note": "seen"},
        headers=console_env.auth("acme"),
    )  # fmt: skip
    assert ack.status_code in (200, 201), ack.text


def test_other_enterprise_does_not_see_it(
    client: Any, console_env: ConsoleEnv, species_alert: str
) -> None:
    listed = client.get("/api/v1/alerts", headers=console_env.auth("hengli"))
    assert species_alert not in {a["alert_id"] for a in listed.json()["items"]}
    one = client.get(f"/api/v1/alerts/{species_alert}", headers=console_env.auth("hengli"))
    assert one.status_code in (403, 404)


def test_enterprise_of_a_species_scope(console_env: ConsoleEnv) -> None:
    with psycopg.connect(console_env.dsn, autocommit=True) as conn:
        assert enterprise_of_scope(conn, "stack:acme-stk1.so2") == "acme"
        assert enterprise_of_scope(conn, "stack:acme-stk1") == "acme"
        assert enterprise_of_scope(conn, "point:acme-stk1.nox") == "acme"
        assert enterprise_of_scope(conn, "stack:acme-stk1x.so2") is None
