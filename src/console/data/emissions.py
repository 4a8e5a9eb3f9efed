"""Emission queries: by scope, category and source, with trends and source tracking (the
factor each record used). Calculated and measured (CEMS) emissions are never added together:
every answer is for one ``method``.
"""

from __future__ import annotations

from typing import Literal

from console.auth import Scope, filter_sql
from console.data import Conn, Row, dt_to_ms, fetch, period_params, period_sql
from console.errors import BadRequest

GROUPS = ("enterprise", "scope", "category", "source", "factor_id")
_ROLLUP = {"hour": "emissions_hourly", "day": "emissions_daily", "month": "emissions_monthly"}
Method = Literal["calculated", "measured"]


def emissions(
    conn: Conn,
    scope: Scope,
    *,
    group_by: tuple[str, ...] = ("enterprise",),
    enterprise: str | None = None,
    ghg_scope: int | None = None,
    category: str | None = None,
    source: str | None = None,
    method: Method = "calculated",
    start_ms: int | None = None,
    end_ms: int | None = None,
    bucket: str = "total",
) -> list[Row]:
    """CO₂e (t) grouped by ``group_by`` (any of ``GROUPS``), summed over the period or per UTC
    hour/day/month bucket (trends; the rollups carry no factor id, so no ``factor_id`` there)."""
    bad = [g for g in group_by if g not in GROUPS]
    if bad:
        raise BadRequest(f"group_by {bad}: expected some of {', '.join(GROUPS)}")
    if bucket == "total":
        src, time_col, bucket_col = "emissions", "e.start_ts", "NULL::timestamptz"
    elif bucket in _ROLLUP:
        if "factor_id" in group_by:
            raise BadRequest("group_by factor_id: only with bucket=total")
        src, time_col, bucket_col = _ROLLUP[bucket], "e.bucket", "e.bucket"
    else:
        raise BadRequest(f"bucket {bucket!r}: expected total, hour, day or month")
    if method not in ("calculated", "measured"):
        raise BadRequest(f"method {method!r}: expected calculated or measured")
    cols = "".join(f", e.{g}" for g in group_by)
    rows = fetch(
        conn,
        f"SELECT {bucket_col} AS bucket{cols}, sum(e.co2e_t) AS co2e_t FROM {src} e"
        f" WHERE {filter_sql('e.enterprise')} AND {period_sql(time_col)}"
        " AND e.method = %(method)s"
        " AND (%(ent)s::text IS NULL OR e.enterprise = %(ent)s)"
        " AND (%(gs)s::int IS NULL OR e.scope = %(gs)s)"
        " AND (%(cat)s::text IS NULL OR e.category = %(cat)s)"
        " AND (%(src)s::text IS NULL OR e.source = %(src)s)"
        f" GROUP BY 1{cols} ORDER BY 1 NULLS FIRST{cols}",
        {
            **scope.params(),
            **period_params(start_ms, end_ms),
            "method": method,
            "ent": enterprise,
            "gs": ghg_scope,
            "cat": category,
            "src": source,
        },
    )
    for r in rows:
        r["bucket_ms"] = dt_to_ms(r.pop("bucket"))
    return rows
