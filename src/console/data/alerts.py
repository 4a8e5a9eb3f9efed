"""Alert history, one alert's events and comments, acknowledgement and comments.

Alerts are stored as state changes (``alerts``); ``console_alert_events`` adds the enterprise
each alert's scope belongs to (NULL for park-wide alerts, which only park-wide roles see).
"""

from __future__ import annotations

from typing import Any, Literal

from console.auth import Scope, filter_sql
from console.data import Conn, Row, dt_to_ms, fetch, ms_to_dt
from console.errors import BadRequest, NotFound

State = Literal["active", "cleared", "all"]

_HISTORY = (
    'SELECT r.alert_id, r.rule_id, r.severity, r.scope, r.metric, r.enterprise, r."window",'
    " r.value AS raised_value, r.threshold, r.ts AS raised_ts,"
    " c.ts AS cleared_ts, c.value AS cleared_value,"
    " k.ack_by, k.ack_ts, k.note AS ack_note,"
    " (SELECT count(*) FROM console_alert_comments m WHERE m.alert_id = r.alert_id) AS comments"
    " FROM console_alert_events r"
    " LEFT JOIN LATERAL (SELECT x.ts, x.value FROM alerts x WHERE x.alert_id = r.alert_id"
    "   AND x.state = 'cleared' ORDER BY x.ts LIMIT 1) c ON true"
    " LEFT JOIN console_alert_acks k ON k.alert_id = r.alert_id"
    " WHERE r.state = 'raised' AND {scope}"
)


def _shape(r: Row) -> Row:
    for col in ("raised_ts", "cleared_ts", "ack_ts"):
        r[col.replace("_ts", "_ms")] = dt_to_ms(r.pop(col))
    r["active"] = r["cleared_ms"] is None
    r["acknowledged"] = r["ack_by"] is not None
    return r


def history(
    conn: Conn,
    scope: Scope,
    *,
    state: State = "all",
    enterprise: str | None = None,
    severity: str | None = None,
    rule_id: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int = 200,
) -> list[Row]:
    """Alerts (one row per alert id: raised, cleared, acknowledgement), newest first."""
    if state not in ("active", "cleared", "all"):
        raise BadRequest(f"state {state!r}: expected active, cleared or all")
    rows = fetch(
        conn,
        _HISTORY.format(scope=filter_sql("r.enterprise"))
        + " AND (%(ent)s::text IS NULL OR r.enterprise = %(ent)s)"
        " AND (%(sev)s::text IS NULL OR r.severity = %(sev)s)"
        " AND (%(rule)s::text IS NULL OR r.rule_id = %(rule)s)"
        " AND (%(since)s::timestamptz IS NULL OR r.ts >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR r.ts < %(until)s)"
        " AND (%(state)s = 'all' OR (%(state)s = 'active') = (c.ts IS NULL))"
        " ORDER BY r.ts DESC, r.alert_id LIMIT %(limit)s",
        {
            **scope.params(),
            "ent": enterprise,
            "sev": severity,
            "rule": rule_id,
            "since": ms_to_dt(since_ms),
            "until": ms_to_dt(until_ms),
            "state": state,
            "limit": limit,
        },
    )
    return [_shape(r) for r in rows]


def alert(conn: Conn, scope: Scope, alert_id: str) -> Row:
    """One alert with its state changes and comments."""
    rows = fetch(
        conn,
        _HISTORY.format(scope=filter_sql("r.enterprise")) + " AND r.alert_id = %(id)s",
        {**scope.params(), "id": alert_id},
    )
    if not rows:
        raise NotFound(f"alert {alert_id!r}: not found")
    out = _shape(rows[0])
    events = fetch(
        conn,
        "SELECT state, value, threshold, ts FROM console_alert_events"
        f" WHERE alert_id = %(id)s AND {filter_sql('enterprise')} ORDER BY ts, state",
        {**scope.params(), "id": alert_id},
    )
    out["events"] = [{**e, "ts": dt_to_ms(e["ts"])} for e in events]
    out["comment_list"] = comments(conn, scope, alert_id)
    return out


def _visible(conn: Conn, scope: Scope, alert_id: str) -> None:
    row = conn.execute(
        "SELECT 1 FROM console_alert_events WHERE alert_id = %(id)s AND "
        + filter_sql("enterprise"),
        {**scope.params(), "id": alert_id},
    ).fetchone()
    if row is None:
        raise NotFound(f"alert {alert_id!r}: not found")


def acknowledge(conn: Conn, scope: Scope, alert_id: str, note: str) -> Row:
    """Acknowledge an alert in scope (the first acknowledgement stands)."""
    _visible(conn, scope, alert_id)
    conn.execute(
        "INSERT INTO console_alert_acks (alert_id, ack_by, note) VALUES (%s, %s, %s)"
        " ON CONFLICT (alert_id) DO NOTHING",
        (alert_id, scope.name, note),
    )
    return alert(conn, scope, alert_id)


def comments(conn: Conn, scope: Scope, alert_id: str) -> list[Row]:
    _visible(conn, scope, alert_id)
    rows = fetch(
        conn,
        "SELECT id, author, ts, body FROM console_alert_comments WHERE alert_id = %(id)s"
        " ORDER BY ts, id",
        {"id": alert_id},
    )
    return [{**r, "ts": dt_to_ms(r["ts"])} for r in rows]


def add_comment(conn: Conn, scope: Scope, alert_id: str, body: str) -> Row:
    _visible(conn, scope, alert_id)
    row = conn.execute(
        "INSERT INTO console_alert_comments (alert_id, author, body) VALUES (%s, %s, %s)"
        " RETURNING id, author, ts, body",
        (alert_id, scope.name, body),
    ).fetchone()
    assert row is not None
    out: dict[str, Any] = {"id": row[0], "author": row[1], "ts": dt_to_ms(row[2]), "body": row[3]}
    return out


def enterprise_of_scope(conn: Conn, alert_scope: str) -> str | None:
    """The enterprise an alert's ``scope`` (``kind:id``) belongs to (None: park-wide).

    A stack's pollutant alerts are scoped ``stack:<stack>.<species>`` and a species point is
    ``<stack>.<species>``: both resolve to the stack whose id is the longest prefix before a
    dot, as ``console_alert_events`` does (migration 0115)."""
    kind, _, ident = alert_scope.partition(":")
    table = {"stack": "console_stacks", "device": "console_devices", "point": "console_points"}
    if kind == "enterprise":
        return ident
    if kind not in table:
        return None
    if kind != "stack":
        found = conn.execute(
            f"SELECT enterprise FROM {table[kind]} WHERE id = %s", (ident,)
        ).fetchone()
        if found is not None or kind != "point":
            return None if found is None else str(found[0])
    row = conn.execute(
        "SELECT enterprise FROM console_stacks WHERE (id = %(id)s AND %(exact)s)"
        " OR left(%(id)s, length(id) + 1) = id || '.' ORDER BY length(id) DESC LIMIT 1",
        {"id": ident, "exact": kind == "stack"},
    ).fetchone()
    return None if row is None else str(row[0])
