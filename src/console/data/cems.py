"""CEMS hourly values per stack (validity, substitution, CO₂ and pollutant masses, averages)."""

from __future__ import annotations

from console.auth import Scope, filter_sql
from console.data import Conn, Row, dt_to_ms, fetch, period_params, period_sql


def hourly(
    conn: Conn,
    scope: Scope,
    *,
    stack: str | None = None,
    enterprise: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int = 1000,
) -> list[Row]:
    """Stack-hours in time order (newest ``limit`` when the period is open)."""
    rows = fetch(
        conn,
        "SELECT * FROM (SELECT stack, enterprise, hour_start, n_valid, valid, co2_t, substitution,"
        " pollutant_kg, pollutant_avg_mg_m3 FROM cems_hourly"
        f" WHERE {filter_sql('enterprise')} AND {period_sql('hour_start')}"
        " AND (%(stack)s::text IS NULL OR stack = %(stack)s)"
        " AND (%(ent)s::text IS NULL OR enterprise = %(ent)s)"
        " ORDER BY hour_start DESC, stack LIMIT %(limit)s) h ORDER BY hour_start, stack",
        {
            **scope.params(),
            **period_params(start_ms, end_ms),
            "stack": stack,
            "ent": enterprise,
            "limit": limit,
        },
    )
    for r in rows:
        r["hour_start_ms"] = dt_to_ms(r.pop("hour_start"))
    return rows
