"""The delivery ledger (``console_deliveries``): one row per (subscription, alert, state).

``claim`` writes ``pending`` before a send; ``record`` writes each attempt's outcome. A row that
is ``sent`` or ``failed`` is never sent again, so replayed alerts (a restarted worker, offsets
not yet committed) deliver nothing twice; a ``pending`` row found after a restart means the
process died around the send and it is sent again (with the same ``X-Nengtan-Delivery`` key).
"""

from __future__ import annotations

from typing import Any

import psycopg

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
