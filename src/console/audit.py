"""The console's audit trail: who (token id, name, role) did what (method, route, path), to
whose data (the subject enterprise), when, and with what outcome (HTTP status).

Recorded: every write (POST/PUT/PATCH/DELETE, refused and unauthenticated ones too) and every
API read by a park-wide role (administrator, auditor), whose reads cross enterprises. Each
record is appended to ``console_audit`` (the database refuses UPDATE/DELETE/TRUNCATE) and to
the evidence chain as a ``console_audit`` event in the same transaction: ``nengtan evidence
verify`` notices an event altered or removed, and ``check`` (``GET /api/v1/audit/check``) a
record that no longer matches its event or is missing.

The middleware runs after the response is built (the status is known) and resolves the token
itself, so no route has to remember to audit; a failed audit write is logged as an error.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import psycopg
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import RequestResponseEndpoint

from console.auth import Scope, resolve_token
from evidence import events

log = logging.getLogger(__name__)
Conn = psycopg.Connection[tuple[Any, ...]]

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARK_WIDE = frozenset({"admin", "auditor"})
_ENTERPRISE_PARAMS = ("enterprise_id", "enterprise")


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def subject_enterprise(request: Request, scope: Scope | None) -> str | None:
    """The enterprise a request is about: a path or query parameter naming one, else the
    caller's own enterprise (enterprise users and vendors act on their own)."""
    params = request.scope.get("path_params") or {}
    for name in _ENTERPRISE_PARAMS:
        value = params.get(name) or request.query_params.get(name)
        if value:
            return str(value)[:128]
    return None if scope is None else scope.enterprise


def record(conn: Conn, row: dict[str, Any]) -> int:
    """Append one audit record and its evidence event (one transaction); returns its id."""
    with conn.transaction():
        event = events.record(
            conn,
            "console_audit",
            f"{row['method']} {row['route']}",
            row["actor"],
            f"HTTP {row['status']}",
            row,
            at_ms=row["at_ms"],
        )
        got = conn.execute(
            "INSERT INTO console_audit (at_ts, token_id, actor, role, method, route, path,"
            " enterprise, status, event_id) VALUES ('epoch'::timestamptz + %s * INTERVAL"
            " '1 millisecond', %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING audit_id",
            (
                row["at_ms"],
                row["token_id"],
                row["actor"],
                row["role"],
                row["method"],
                row["route"],
                row["path"],
                row["enterprise"],
                row["status"],
                event.event_id,
            ),
        ).fetchone()
    assert got is not None
    return int(got[0])


def _audit(request: Request, status: int, at_ms: int) -> None:
    token = _token(request)
    with request.app.state.pool.connection() as conn:
        scope = None if token is None else resolve_token(conn, token)
        if request.method not in WRITES and (scope is None or scope.role not in PARK_WIDE):
            return
        route = request.scope.get("route")
        row = {
            "at_ms": at_ms,
            "token_id": None if scope is None else scope.token_id,
            "actor": "anonymous" if scope is None else scope.name,
            "role": "none" if scope is None else scope.role,
            "method": request.method,
            "route": str(getattr(route, "path", "")) or "(no route)",
            "path": request.url.path[:500],
            "enterprise": subject_enterprise(request, scope),
            "status": status,
        }
        record(conn, row)


def install(app: FastAPI) -> None:
    """Audit the app's API requests (``/api/...``)."""

    @app.middleware("http")
    async def audit_trail(request: Request, call_next: RequestResponseEndpoint) -> Response:
        at_ms = int(time.time() * 1000)
        response = await call_next(request)
        if request.url.path.startswith("/api/") and (
            request.method in WRITES or request.headers.get("authorization")
        ):
            try:
                await run_in_threadpool(_audit, request, response.status_code, at_ms)
            except Exception:
                log.exception("audit record of %s %s not written", request.method, request.url.path)
        return response


_FIELDS = ("at_ms", "token_id", "actor", "role", "method", "route", "path", "enterprise", "status")


def check(conn: Conn) -> list[str]:
    """Audit records that differ from the evidence event they name, and ``console_audit``
    events whose record is gone: what changing the table behind its triggers leaves behind
    (the events themselves are covered by ``nengtan evidence verify``'s chain check)."""
    problems = []
    for row in conn.execute(
        "SELECT a.audit_id, (extract(epoch FROM a.at_ts) * 1000)::bigint, a.token_id, a.actor,"
        " a.role, a.method, a.route, a.path, a.enterprise, a.status, e.kind, e.body"
        " FROM console_audit a LEFT JOIN evidence_events e ON e.event_id = a.event_id"
        " ORDER BY a.audit_id"
    ):
        stored = dict(zip(_FIELDS, row[1:10], strict=True))
        if row[10] != "console_audit" or json.loads(row[11]) != stored:
            problems.append(f"console_audit #{row[0]}: differs from its evidence event")
    for (event_id,) in conn.execute(
        "SELECT e.event_id FROM evidence_events e WHERE e.kind = 'console_audit'"
        " AND NOT EXISTS (SELECT 1 FROM console_audit a WHERE a.event_id = e.event_id)"
        " ORDER BY e.event_id"
    ):
        problems.append(f"evidence_events #{event_id}: its console_audit record is missing")
    return problems
