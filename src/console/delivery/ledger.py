"""The delivery ledger (``console_deliveries``): one row per (subscription, alert, state).

``claim`` writes ``pending`` before a send; ``record`` writes each attempt's outcome (its error
as a short category only: tenants read this table). A row that is ``sent`` or ``failed`` is
never sent again, so replayed alerts (a restarted worker, offsets not yet committed) deliver
nothing twice; a ``pending`` row found after a restart means the process died around the send
and it is sent again (with the same ``X-Nengtan-Delivery`` key). A ``deferred`` row (its
subscription was waiting out a back-off) keeps the alert and is sent by the worker's sweep once
the subscription may be tried again.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]


def claim(conn: Conn, sub_id: int, alert_id: str, state: str) -> bool:
    """True when this (subscription, alert, state) still has to be sent."""
    row = conn.execute(
        "INSERT INTO console_deliveries (subscription_id, alert_id, state, status)"
        " VALUES (%s, %s, %s, 'pending') ON CONFLICT DO NOTHING RETURNING 1",
        (sub_id, alert_id, state),
    ).fetchone()
    if row is not None:
        return True
    status = conn.execute(
        "SELECT status FROM console_deliveries WHERE subscription_id = %s AND alert_id = %s"
        " AND state = %s",
        (sub_id, alert_id, state),
    ).fetchone()
    return status is not None and status[0] == "pending"


def record(
    conn: Conn,
    sub_id: int,
    alert_id: str,
    state: str,
    status: str,
    attempts: int,
    error: str | None,
) -> None:
    conn.execute(
        "UPDATE console_deliveries SET status = %s, attempts = %s, last_error = %s,"
        " updated_at = now() WHERE subscription_id = %s AND alert_id = %s AND state = %s",
        (status, attempts, error, sub_id, alert_id, state),
    )


def defer(conn: Conn, sub_id: int, alert: dict[str, Any], enterprise: str | None) -> None:
    """Keep a delivery for a subscription waiting out its back-off (sent when it recovers)."""
    conn.execute(
        "UPDATE console_deliveries SET status = 'deferred', payload = %s, updated_at = now()"
        " WHERE subscription_id = %s AND alert_id = %s AND state = %s",
        (
            Jsonb({"alert": alert, "enterprise": enterprise}),
            sub_id,
            alert["alert_id"],
            alert["state"],
        ),
    )


def deferred(conn: Conn, limit: int) -> list[tuple[int, dict[str, Any], str | None]]:
    """Deferred deliveries of live subscriptions whose wait is over, oldest first:
    (subscription id, alert, enterprise)."""
    rows = conn.execute(
        "SELECT d.subscription_id, d.payload FROM console_deliveries d"
        " JOIN console_subscriptions s ON s.id = d.subscription_id"
        " WHERE d.status = 'deferred' AND s.deleted_at IS NULL"
        " AND (s.health = 'ok' OR s.next_attempt_at IS NULL OR s.next_attempt_at <= now())"
        " ORDER BY d.created_at LIMIT %s",
        (limit,),
    ).fetchall()
    return [(int(r[0]), dict(r[1]["alert"]), r[1]["enterprise"]) for r in rows]
