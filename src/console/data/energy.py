"""Energy queries: consumption by carrier, level, unit and period (with history), consumption
in tce (GB/T 2589) and intensity per output value and per product.

Enterprise totals add only the *inventory* points (``console_points.inventory``: per carrier and
use, the top metering level, counters before rates — the streams' own rule), so a line meter
under an incomer or a kW signal beside a kWh register is never added twice. Asking for a
level, unit or point returns exactly those points instead.
"""

from __future__ import annotations

from typing import Any, Literal

from console.auth import Scope, filter_sql
from console.data import Conn, Row, dt_to_ms, fetch, period_params, period_sql
from console.errors import BadRequest

Bucket = Literal["total", "hour", "day", "month"]
_ROLLUP = {"hour": "consumption_hourly", "day": "consumption_daily", "month": "consumption_monthly"}
INPUT_USES = ("purchased", "fuel", "feedstock")
"""Uses that bring energy into an enterprise; ``exported`` leaves it; ``generated`` is produced
inside from inputs already counted."""


def _point_filter(level: int | None, unit: str | None, point: str | None) -> str:
    if level is None and unit is None and point is None:
        return "p.inventory"
    return (
        "(%(level)s::int IS NULL OR p.level = %(level)s)"
        " AND (%(unit)s::text IS NULL OR p.unit = %(unit)s OR p.unit IN"
        " (SELECT u.id FROM console_units u WHERE u.parent = %(unit)s))"
        " AND (%(point)s::text IS NULL OR p.id = %(point)s)"
    )


def consumption(
    conn: Conn,
    scope: Scope,
    *,
    enterprise: str | None = None,
    carrier: str | None = None,
    level: int | None = None,
    unit: str | None = None,
    point: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    bucket: Bucket = "total",
    by_point: bool = False,
) -> list[Row]:
    """Consumption (quantity in the carrier's uom, kgce) per enterprise, carrier and use
    (purchased, fuel, feedstock, generated, exported) — per point too when ``by_point`` —
    summed over the period or per UTC hour/day/month bucket."""
    if bucket == "total":
        source, time_col, bucket_col = "consumption", "c.start_ts", "NULL::timestamptz"
    elif bucket in _ROLLUP:
        source, time_col, bucket_col = _ROLLUP[bucket], "c.bucket", "c.bucket"
    else:
        raise BadRequest(f"bucket {bucket!r}: expected total, hour, day or month")
    point_cols = "c.point, " if by_point else ""
    rows = fetch(
        conn,
        f"SELECT {bucket_col} AS bucket, c.enterprise, {point_cols}c.carrier, p.use, c.uom,"
        " sum(c.quantity) AS quantity, sum(c.kgce) AS kgce"
        f" FROM {source} c JOIN console_points p ON p.id = c.point"
        f" WHERE {filter_sql('c.enterprise')} AND {period_sql(time_col)}"
        " AND (%(ent)s::text IS NULL OR c.enterprise = %(ent)s)"
        " AND (%(carrier)s::text IS NULL OR c.carrier = %(carrier)s)"
        f" AND {_point_filter(level, unit, point)}"
        f" GROUP BY 1, c.enterprise, {point_cols}c.carrier, p.use, c.uom"
        f" ORDER BY 1 NULLS FIRST, c.enterprise, {point_cols}c.carrier, p.use",
        {
            **scope.params(),
            **period_params(start_ms, end_ms),
            "ent": enterprise,
            "carrier": carrier,
            "level": level,
            "unit": unit,
            "point": point,
        },
    )
    for r in rows:
        r["bucket_ms"] = dt_to_ms(r.pop("bucket"))
    return rows


def tce_by_enterprise(
    conn: Conn,
    scope: Scope,
    start_ms: int | None,
    end_ms: int | None,
    enterprise: str | None = None,
) -> list[Row]:
    """Per enterprise: comprehensive energy consumption (tce) of its inventory points — inputs
    minus exports — with the feedstock share shown apart (GB/T 2589 原料用能)."""
    rows = fetch(
        conn,
        "SELECT c.enterprise,"
        " sum(CASE WHEN p.use IN ('purchased','fuel','feedstock') THEN c.kgce ELSE 0 END) AS in_kgce,"
        " sum(CASE WHEN p.use = 'feedstock' THEN c.kgce ELSE 0 END) AS feedstock_kgce,"
        " sum(CASE WHEN p.use = 'exported' THEN c.kgce ELSE 0 END) AS exported_kgce,"
        " min(c.start_ts) AS first_ts, max(c.end_ts) AS last_ts"
        " FROM consumption c JOIN console_points p ON p.id = c.point"
        f" WHERE p.inventory AND {filter_sql('c.enterprise')} AND {period_sql('c.start_ts')}"
        " AND (%(ent)s::text IS NULL OR c.enterprise = %(ent)s)"
        " GROUP BY c.enterprise ORDER BY c.enterprise",
        {**scope.params(), **period_params(start_ms, end_ms), "ent": enterprise},
    )
    out = []
    for r in rows:
        total_kgce = float(r["in_kgce"]) - float(r["exported_kgce"])
        out.append(
            {
                "enterprise": r["enterprise"],
                "tce": total_kgce / 1000.0,
                "feedstock_tce": float(r["feedstock_kgce"]) / 1000.0,
                "tce_excl_feedstock": (total_kgce - float(r["feedstock_kgce"])) / 1000.0,
                "exported_tce": float(r["exported_kgce"]) / 1000.0,
                "first_ms": dt_to_ms(r["first_ts"]),
                "last_ms": dt_to_ms(r["last_ts"]),
            }
        )
    return out


YEAR_MS = 365 * 24 * 3600 * 1000
"""The year the park file's yearly output is spread over (a 365-day year)."""


def intensity(
    conn: Conn,
    scope: Scope,
    start_ms: int | None,
    end_ms: int | None,
    enterprise: str | None = None,
) -> list[Row]:
    """Energy intensity per enterprise: tce per 10⁴ CNY of output value and per unit of each
    product. The output over the period is the park file's yearly output times the period's
    share of a 365-day year (the period is the data's span when not given)."""
    tce_rows = tce_by_enterprise(conn, scope, start_ms, end_ms, enterprise)
    outputs = {
        r["id"]: r["output"]
        for r in fetch(
            conn,
            f"SELECT id, output FROM console_enterprises WHERE {filter_sql('id')}",
            scope.params(),
        )
    }
    out: list[Row] = []
    for r in tce_rows:
        s = start_ms if start_ms is not None else r["first_ms"]
        e = end_ms if end_ms is not None else r["last_ms"]
        share = max(0, (e or 0) - (s or 0)) / YEAR_MS
        value = sum(
            float(o.get("value_1e4_cny_per_year") or 0.0) for o in outputs.get(r["enterprise"], [])
        )
        products: list[dict[str, Any]] = []
        for o in outputs.get(r["enterprise"], []):
            qty = float(o["quantity_per_year"]) * share
            products.append(
                {
                    "product": o["product"],
                    "uom": o["uom"],
                    "quantity": qty,
                    "tce_per_unit": r["tce"] / qty if qty > 0 else None,
                }
            )
        value_1e4 = value * share
        out.append(
            {
                "enterprise": r["enterprise"],
                "start_ms": s,
                "end_ms": e,
                "tce": r["tce"],
                "output_value_1e4_cny": value_1e4,
                "tce_per_1e4_cny": r["tce"] / value_1e4 if value_1e4 > 0 else None,
                "products": products,
            }
        )
    return out
