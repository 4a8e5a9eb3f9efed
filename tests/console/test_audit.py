"""The audit trail over the real console and PostgreSQL: writes (refused and unauthenticated
ones too) and park-wide roles' reads are recorded with who, when, route, subject enterprise and
status; enterprise users' own reads are not; the table refuses UPDATE, DELETE and TRUNCATE; each
record is an evidence event and the evidence chain still verifies; only administrators and
auditors list the trail."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from consolekit import ConsoleEnv

from evidence.verify import verify

pytestmark = pytest.mark.integration


def rows(conn: psycopg.Connection[Any], after: int) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT actor, role, method, route, path, enterprise, status, token_id IS NOT NULL,"
        " event_id FROM console_audit WHERE audit_id > %s ORDER BY audit_id",
        (after,),
    ).fetchall()


def test_writes_and_cross_tenant_reads_recorded(client: Any, console_env: ConsoleEnv) -> None:
    env = console_env
    with psycopg.connect(env.dsn, autocommit=True) as conn:
        start = conn.execute("SELECT coalesce(max(audit_id), 0) FROM console_audit").fetchone()
        assert start is not None
        before = int(start[0])

        made = client.post("/api/v1/subscriptions", json={"channel": "mqtt"},
                           headers=env.auth("acme"))  # fmt: skip
        assert made.status_code == 201
        # an enterprise user's own read: not an audit event
        assert client.get("/api/v1/subscriptions", headers=env.auth("acme")).status_code == 200
        assert (
            client.get("/api/v1/enterprises/hengli", headers=env.auth("admin")).status_code == 200
        )
        assert (
            client.get("/api/v1/enterprises/acme", headers=env.auth("auditor")).status_code == 200
        )
        # a refused write and an unauthenticated one
        refused = client.post("/api/v1/subscriptions", json={"channel": "mqtt"},
                              headers=env.auth("auditor"))  # fmt: skip
        assert refused.status_code == 403
        assert client.delete(f"/api/v1/subscriptions/{made.json()['id']}").status_code == 401

        got = rows(conn, before)
        assert got[0] == ("acme", "enterprise", "POST", "/api/v1/subscriptions",
                          "/api/v1/subscriptions", "acme", 201, True, got[0][8])  # fmt: skip
        assert got[1][:7] == ("admin", "admin", "GET", "/api/v1/enterprises/{enterprise_id}",
                              "/api/v1/enterprises/hengli", "hengli", 200)  # fmt: skip
        assert got[2][:7] == ("auditor", "auditor", "GET", "/api/v1/enterprises/{enterprise_id}",
                              "/api/v1/enterprises/acme", "acme", 200)  # fmt: skip
        assert got[3][:7] == ("auditor", "auditor", "POST", "/api/v1/subscriptions",
                              "/api/v1/subscriptions", None, 403)  # fmt: skip
        assert got[4][:8] == ("anonymous", "none", "DELETE", "/api/v1/subscriptions/{subscription_id}",
                              f"/api/v1/subscriptions/{made.json()['id']}", None, 401, False)  # fmt: skip
        assert len(got) == 5

        # each record is an evidence event carrying the same facts
        ev = conn.execute(
            "SELECT kind, actor, body FROM evidence_events WHERE event_id = %s", (got[1][8],)
        ).fetchone()
        assert ev is not None and ev[0] == "console_audit" and ev[1] == "admin"
        assert '"enterprise":"hengli"' in ev[2]
        assert verify(conn).ok


def test_append_only(console_env: ConsoleEnv) -> None:
    with psycopg.connect(console_env.dsn, autocommit=True) as conn:
        for sql in ("UPDATE console_audit SET status = 200", "DELETE FROM console_audit",
                    "TRUNCATE console_audit"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(sql)


def test_audit_route(client: Any, console_env: ConsoleEnv) -> None:
    env = console_env
    assert client.get("/api/v1/audit", headers=env.auth("acme")).status_code == 403
    assert client.get("/api/v1/audit", headers=env.auth("vendor")).status_code == 403
    client.get("/api/v1/enterprises/hengli", headers=env.auth("admin"))
    page = client.get("/api/v1/audit", params={"enterprise": "hengli"},
                      headers=env.auth("auditor")).json()  # fmt: skip
    assert page["count"] >= 1
    first = page["items"][0]
    assert first["enterprise"] == "hengli" and first["actor"] == "admin"
    assert {"at_ms", "token_id", "role", "method", "route", "path", "status", "event_id"} <= set(
        first
    )


def test_a_record_changed_behind_the_triggers_is_named(
    client: Any, console_env: ConsoleEnv
) -> None:
    """Someone able to switch the triggers off (the table's owner, a superuser) changes and
    removes records: the check names both, the evidence chain itself stays intact."""
    env = console_env
    auditor = env.auth("auditor")
    client.get("/api/v1/enterprises/hengli", headers=env.auth("admin"))
    assert client.get("/api/v1/audit/check", headers=env.auth("acme")).status_code == 403
    assert client.get("/api/v1/audit/check", headers=auditor).json()["ok"] is True
    with psycopg.connect(env.dsn, autocommit=True) as conn:
        last = conn.execute("SELECT max(audit_id) FROM console_audit").fetchone()
        assert last is not None
        conn.execute("SET session_replication_role = replica")  # triggers off
        conn.execute("UPDATE console_audit SET actor = 'nobody' WHERE audit_id = %s",
                     (last[0],))  # fmt: skip
        conn.execute("DELETE FROM console_audit WHERE audit_id = %s", (last[0] - 1,))
        conn.execute("SET session_replication_role = DEFAULT")
        assert verify(conn).ok  # the events are untouched
    got = client.get("/api/v1/audit/check", headers=auditor).json()
    assert got["ok"] is False and got["count"] == 2
    assert f"console_audit #{last[0]}: differs" in got["problems"][0]
    assert "record is missing" in got["problems"][1]
