"""The audit trail (``console_audit``), for administrators and auditors."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from console import audit as trail
from console.data import dt_to_ms, fetch, ms_to_dt
from console.deps import ConnDep, Reader
from console.errors import Forbidden
from console.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit")
def audit(
    conn: ConnDep,
    scope: Reader,
    since_ms: int | None = Query(None, ge=0, le=32503680000000),
    until_ms: int | None = Query(None, ge=0, le=32503680000000),
    enterprise: str | None = Query(None, max_length=128),
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] | None = None,
    limit: int = Query(500, ge=1, le=10000),
) -> Page:
    """Audit records, newest first: who (token id, name, role), when, method, route, path, the
    subject enterprise, the HTTP status and the evidence event that chains the record."""
    if not scope.sees_all:
        raise Forbidden("the audit trail is for park administrators and auditors")
    rows = fetch(
        conn,
        "SELECT audit_id, at_ts, token_id, actor, role, method, route, path, enterprise, status,"
        " event_id FROM console_audit"
        " WHERE (%(since)s::timestamptz IS NULL OR at_ts >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR at_ts < %(until)s)"
        " AND (%(ent)s::text IS NULL OR enterprise = %(ent)s)"
        " AND (%(method)s::text IS NULL OR method = %(method)s)"
        " ORDER BY audit_id DESC LIMIT %(limit)s",
        {
            "since": ms_to_dt(since_ms),
            "until": ms_to_dt(until_ms),
            "ent": enterprise,
            "method": method,
            "limit": limit,
        },
    )
    for r in rows:
        r["at_ms"] = dt_to_ms(r.pop("at_ts"))
    return Page.of(rows)


@router.get("/audit/check")
def check(conn: ConnDep, scope: Reader) -> dict[str, Any]:
    """Compare every audit record with the evidence event it names: ``ok`` and the records
    that differ or are missing (the event chain itself: ``nengtan evidence verify``)."""
    if not scope.sees_all:
        raise Forbidden("the audit trail is for park administrators and auditors")
    problems = trail.check(conn)
    return {"ok": not problems, "problems": problems[:1000], "count": len(problems)}
