"""The annual GHG report as data, in the structure of GB/T 32150 (enterprise GHG accounting
and reporting, general) and the GB/T 32151 sector parts: reporting entity, period and boundary,
emission sources, activity data, factors and their sources, emissions by source, scope and gas,
measured versus calculated, data quality, recalculations.

Every figure is a sum of stored records (``emissions``, ``consumption``, ``cems_hourly``), so
the lineage API can take any line back to raw readings. Calculated emissions are the
accounting basis; CEMS-measured CO₂ is reported beside them, never added to them.
The JSON form built here is what the Excel and PDF renderings show and what is frozen.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from accounting.settings import AccountingSettings
from evidence.lineage import factors as factor_lineage
from evidence.recalc import recalculations
from evidence.seals import Conn
from ingest.park.models import Park

REPORT_SCHEMA = "nengtan.report.emissions/1"
_TS = "'epoch'::timestamptz + %s * INTERVAL '1 millisecond'"


def year_range_ms(year: int) -> tuple[int, int]:
    """[1 Jan, next 1 Jan) of ``year`` in UTC, epoch ms."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _rows(conn: Conn, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, args)
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _entity(enterprise: str, park: Park | None) -> dict[str, Any]:
    ent = next((e for e in park.enterprises if e.id == enterprise), None) if park else None
    if ent is None:
        return {"id": enterprise, "name": "", "industry": "", "region": "", "park": park.id if park else ""}
    return {"id": ent.id, "name": ent.name, "industry": ent.industry, "region": ent.region,
            "park": park.id if park else "",
            "output": [o.model_dump() for o in ent.output]}  # fmt: skip


def _boundary(enterprise: str, park: Park | None, points: list[dict[str, Any]],
              stacks: list[str]) -> dict[str, Any]:  # fmt: skip
    ent = next((e for e in park.enterprises if e.id == enterprise), None) if park else None
    units = [u.model_dump() for u in ent.units] if ent else []
    info = {p.id: p for p in ent.points} if ent else {}
    pts = []
    for p in points:
        m = info.get(p["point"])
        pts.append({"point": p["point"], "carrier": p["carrier"], "uom": p["uom"],
                    "use": m.use if m else None, "unit": m.unit if m else None,
                    "level": m.level if m else None, "device": m.device if m else None})  # fmt: skip
    return {
        "description": "the enterprise's facilities within its legal boundary as metered: every "
        "point with stored consumption and every CEMS stack with stored hours",
        "units": units,
        "points": pts,
        "stacks": stacks,
    }


def build_report(conn: Conn, enterprise: str, year: int, *, park: Park | None = None,
                 settings: AccountingSettings | None = None) -> dict[str, Any]:  # fmt: skip
    """The report body for ``enterprise`` and calendar ``year`` (UTC) from the stored records."""
    settings = settings or AccountingSettings()
    start, end = year_range_ms(year)
    win = (enterprise, start, end)
    where = f"enterprise = %s AND start_ts >= {_TS} AND start_ts < {_TS}"

    activity = _rows(conn,
        "SELECT point, carrier, uom, sum(quantity) AS quantity, sum(kgce) AS kgce,"
        " count(*) AS n_intervals, (extract(epoch FROM min(start_ts)) * 1000)::bigint AS first_ms,"
        " (extract(epoch FROM max(end_ts)) * 1000)::bigint AS last_ms"
        f" FROM consumption WHERE {where} GROUP BY point, carrier, uom ORDER BY point, carrier, uom", win)  # fmt: skip
    activity_monthly = _rows(conn,
        "SELECT point, extract(month FROM start_ts AT TIME ZONE 'UTC')::int AS month,"
        f" sum(quantity) AS quantity, sum(kgce) AS kgce FROM consumption WHERE {where}"
        " GROUP BY 1, 2 ORDER BY 1, 2", win)  # fmt: skip
    sources = _rows(conn,
        "SELECT source, category, scope, method, factor_id, sum(co2e_t) AS co2e_t,"
        f" count(*) AS n_records FROM emissions WHERE {where}"
        " GROUP BY source, category, scope, method, factor_id ORDER BY method, scope, source, category, factor_id", win)  # fmt: skip
    gases = _rows(conn,
        "SELECT method, g.key AS gas, sum(g.value::double precision) AS t FROM emissions,"
        f" jsonb_each_text(gases) g WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2", win)  # fmt: skip
    monthly = _rows(conn,
        "SELECT extract(month FROM start_ts AT TIME ZONE 'UTC')::int AS month, scope, method,"
        f" sum(co2e_t) AS co2e_t FROM emissions WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", win)  # fmt: skip
    cems = _rows(conn,
        "SELECT stack, count(*) AS hours, count(*) FILTER (WHERE valid) AS valid_hours,"
        " count(*) FILTER (WHERE substitution IS NOT NULL) AS substituted_hours,"
        " sum(co2_t) AS co2_t FROM cems_hourly WHERE enterprise = %s"
        f" AND hour_start >= {_TS} AND hour_start < {_TS} GROUP BY stack ORDER BY stack", win)  # fmt: skip
    quality = _rows(conn,
        "SELECT r.point, count(*) AS readings, count(*) FILTER (WHERE r.q <> 'good') AS not_good"
        f" FROM readings_raw r WHERE r.point = ANY(%s) AND r.ts >= {_TS} AND r.ts < {_TS}"
        " GROUP BY r.point ORDER BY r.point",
        ([a["point"] for a in activity], start, end))  # fmt: skip
    sealed = conn.execute(
        "SELECT count(*), count(l.record_key) FROM emissions e LEFT JOIN evidence_leaves l ON"
        " l.record_key = 'emissions:' || e.source || '|' ||"
        " (extract(epoch FROM e.start_ts) * 1000)::bigint || '|' ||"
        " (extract(epoch FROM e.end_ts) * 1000)::bigint WHERE e.enterprise = %s"
        f" AND e.start_ts >= {_TS} AND e.start_ts < {_TS}",
        win,
    ).fetchone()

    for r in activity:
        r["quantity"], r["kgce"] = float(r["quantity"]), float(r["kgce"])
    calc = [s for s in sources if s["method"] == "calculated"]
    measured = [s for s in sources if s["method"] == "measured"]
    by_scope: dict[str, float] = defaultdict(float)
    by_category: dict[str, float] = defaultdict(float)
    for s in calc:
        s["co2e_t"] = float(s["co2e_t"])
        by_scope[str(s["scope"])] += s["co2e_t"]
        by_category[s["category"]] += s["co2e_t"]
    for s in measured:
        s["co2e_t"] = float(s["co2e_t"])
    total = sum(s["co2e_t"] for s in calc)
    measured_total = sum(s["co2e_t"] for s in measured)
    combustion = sum(s["co2e_t"] for s in calc if s["category"] == "fuel_combustion")
    recalcs = recalculations(conn, enterprise, start, end)
    adjustment = sum(float(r["corrected_co2e_t"]) - float(r["original_co2e_t"]) for r in recalcs)
    monthly_table = [
        {"month": m,
         **{f"scope{sc}_co2e_t": sum(float(x["co2e_t"]) for x in monthly if x["month"] == m
                                     and x["scope"] == sc and x["method"] == "calculated")
            for sc in (1, 2)},
         "measured_co2e_t": sum(float(x["co2e_t"]) for x in monthly
                                if x["month"] == m and x["method"] == "measured")}
        for m in range(1, 13)
    ]  # fmt: skip
    points_seen = {a["point"] for a in activity}
    q_by_point = {q["point"]: q for q in quality}
    n_sealed = (int(sealed[0]), int(sealed[1])) if sealed else (0, 0)
    return {
        "schema": REPORT_SCHEMA,
        "standard": "GB/T 32150-2015 structure; sector parts GB/T 32151",
        "entity": _entity(enterprise, park),
        "period": {"year": year, "start_ms": start, "end_ms": end, "time_zone": "UTC"},
        "settings": {"gwp_set": settings.gwp_set, "grid_series": settings.grid_series,
                     "grid_variant": settings.grid_variant,
                     "electricity_method": settings.electricity_method},
        "boundary": _boundary(enterprise, park, activity, [c["stack"] for c in cems]),
        "sources": sources,
        "activity_data": activity,
        "activity_monthly": [{**r, "quantity": float(r["quantity"]), "kgce": float(r["kgce"])}
                             for r in activity_monthly],
        "factors": factor_lineage(conn, [s["factor_id"] for s in sources], date(year, 1, 1)),
        "emissions": {
            "total_co2e_t": total,
            "by_scope": dict(by_scope),
            "by_category": dict(by_category),
            "by_gas": {f"{g['method']}:{g['gas']}": float(g["t"]) for g in gases},
            "monthly": monthly_table,
        },
        "energy": {"total_kgce": sum(a["kgce"] for a in activity),
                   "total_tce": sum(a["kgce"] for a in activity) / 1000.0},
        "measured_vs_calculated": {
            "note": "CEMS-measured CO₂ is shown beside the calculated fuel-combustion emissions; "
            "the two are never added (the calculated figure is the accounting basis)",
            "measured_co2e_t": measured_total,
            "calculated_fuel_combustion_co2e_t": combustion,
            "stacks": [{**c, "co2_t": float(c["co2_t"])} for c in cems],
        },
        "data_quality": {
            "points": [
                {"point": a["point"], "intervals": int(a["n_intervals"]), "first_ms": a["first_ms"],
                 "last_ms": a["last_ms"],
                 "coverage": int(a["n_intervals"]) * 60_000 / max(1, int(a["last_ms"]) - int(a["first_ms"])),
                 "readings": int(q_by_point.get(a["point"], {}).get("readings", 0)),
                 "readings_not_good": int(q_by_point.get(a["point"], {}).get("not_good", 0))}
                for a in activity
            ],
            "points_without_readings": sorted(points_seen - set(q_by_point)),
            "cems_hours": [{k: c[k] for k in ("stack", "hours", "valid_hours", "substituted_hours")}
                           for c in cems],
            "emission_records": n_sealed[0],
            "emission_records_sealed": n_sealed[1],
            "data_source_priority": "direct monitoring (meters, CEMS) for every figure in this report",
        },
        "recalculations": [
            {**{k: v for k, v in r.items() if k != "at_ts"}, "at": r["at_ts"].isoformat()}
            for r in recalcs
        ],
        "corrected_total_co2e_t": total + adjustment,
        "generated_ms": int(time.time() * 1000),
    }


def figures(body: dict[str, Any]) -> dict[str, Any]:
    """The reported figures of a body, without volatile parts (what decides whether a frozen
    revision still stands)."""
    return {k: v for k, v in body.items() if k not in ("generated_ms", "revision")}
