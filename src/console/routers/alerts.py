"""Alerts: history, one alert, acknowledge, comment."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from console.data import alerts
from console.deps import ConnDep, Reader, Writer
from console.schemas import AckBody, CommentBody, Ms, Page

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get("")
def history(
    conn: ConnDep,
    scope: Reader,
    state: Literal["active", "cleared", "all"] = "all",
    enterprise: str | None = Query(None, max_length=128),
    severity: str | None = Query(None, max_length=32),
    rule_id: str | None = Query(None, max_length=128),
    since_ms: int | None = Ms(),
    until_ms: int | None = Ms(),
    limit: int = Query(200, ge=1, le=10000),
) -> Page:
    """One row per alert (raised, cleared, acknowledgement), newest first."""
    return Page.of(
        alerts.history(
            conn,
            scope,
            state=state,
            enterprise=enterprise,
            severity=severity,
            rule_id=rule_id,
            since_ms=since_ms,
            until_ms=until_ms,
            limit=limit,
        )
    )


@router.get("/{alert_id}")
def one(alert_id: str, conn: ConnDep, scope: Reader) -> dict[str, Any]:
    """An alert with its state changes and comments."""
    return alerts.alert(conn, scope, alert_id)


@router.post("/{alert_id}/ack")
def acknowledge(alert_id: str, body: AckBody, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    """Acknowledge (the first acknowledgement stands)."""
    return alerts.acknowledge(conn, scope, alert_id, body.note)


@router.get("/{alert_id}/comments")
def comments(alert_id: str, conn: ConnDep, scope: Reader) -> Page:
    return Page.of(alerts.comments(conn, scope, alert_id))


@router.post("/{alert_id}/comments", status_code=201)
def comment(alert_id: str, body: CommentBody, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    return alerts.add_comment(conn, scope, alert_id, body.body)
