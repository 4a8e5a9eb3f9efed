"""Queries the console, reports and tests run; each works the same on plain PostgreSQL and on
TimescaleDB (the rollups have the same names and columns in both modes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

Conn = psycopg.Connection[tuple[Any, ...]]


def connect(dsn: str) -> Conn:
    """A connection in autocommit mode (queries only read)."""
    return psycopg.connect(dsn, autocommit=True)


def consumption_by_point(conn: Conn, start: datetime | None = None,
                         end: datetime | None = None) -> dict[str, tuple[float, float]]:  # fmt: skip
    """Point -> (quantity, kgce) over ``[start, end)`` (all time when not given)."""
    rows = conn.execute(
        "SELECT point, sum(quantity), sum(kgce) FROM consumption"
        " WHERE (%(s)s::timestamptz IS NULL OR start_ts >= %(s)s)"
        " AND (%(e)s::timestamptz IS NULL OR end_ts <= %(e)s) GROUP BY point",
        {"s": start, "e": end},
    ).fetchall()
    return {r[0]: (float(r[1]), float(r[2])) for r in rows}


def emissions_by_enterprise(conn: Conn, method: str = "calculated") -> dict[str, float]:
    """Enterprise -> CO₂e (t) of one method (calculated and measured are never added)."""
    rows = conn.execute(
        "SELECT enterprise, sum(co2e_t) FROM emissions WHERE method = %s GROUP BY enterprise",
        (method,),
    ).fetchall()
    return {r[0]: float(r[1]) for r in rows}


def emissions_rollup(
    conn: Conn, level: str, enterprise: str | None = None
) -> list[tuple[Any, ...]]:
    """(bucket, enterprise, co2e_t) from ``emissions_{hourly,daily,monthly}``, calculated only."""
    if level not in ("hourly", "daily", "monthly"):
        raise ValueError(f"level {level!r}: expected hourly, daily or monthly")
    return conn.execute(
        f"SELECT bucket, enterprise, sum(co2e_t) FROM emissions_{level}"
        " WHERE method = 'calculated' AND (%(e)s::text IS NULL OR enterprise = %(e)s)"
        " GROUP BY bucket, enterprise ORDER BY bucket, enterprise",
        {"e": enterprise},
    ).fetchall()


def cems_hours(conn: Conn, stack: str | None = None) -> list[dict[str, Any]]:
    """Stack-hours in time order."""
    cur = conn.execute(
        "SELECT stack, hour_start, n_valid, valid, co2_t, substitution, pollutant_kg,"
        " pollutant_avg_mg_m3 FROM cems_hourly WHERE (%(s)s::text IS NULL OR stack = %(s)s)"
        " ORDER BY stack, hour_start",
        {"s": stack},
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def alerts(conn: Conn) -> list[dict[str, Any]]:
    """Every stored alert change in time order."""
    cur = conn.execute("SELECT * FROM alerts ORDER BY ts, alert_id, state")
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def hypertables(conn: Conn) -> list[str]:
    """Names of the hypertables (empty on plain PostgreSQL)."""
    has = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if has is None:
        return []
    rows = conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")
    return sorted(r[0] for r in rows.fetchall())


def prune_dlq(conn: Conn, days: int) -> int:
    """Delete dead letters older than ``days``; returns how many."""
    cur = conn.execute(
        "DELETE FROM dlq WHERE received_ts < now() - make_interval(days => %s)", (days,)
    )
    return cur.rowcount
