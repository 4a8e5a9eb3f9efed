"""Lineage of a reported figure: emission records -> factors (with provenance) -> consumption
intervals -> raw readings, each with its evidence hashes.

A figure is a sum of emission records, so its lineage starts from exactly those records (the
figure is recomputed from them and returned beside the list, so a reader sees it adds up). A
calculated record's source is a metering point: its consumption intervals are the activity
data and the raw readings of that point, inside the interval plus the nearest on either side
(what counter differencing interpolates between), are the original evidence, each with the
hash of the batch it arrived in, that batch's chain hash and the root that sealed it. A
measured record's source is a CEMS stack: its hour and the minute readings of its species
points (``{stack}.{species}``) are the evidence.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from typing import Any

from evidence.records import TABLES, record_key
from evidence.seals import Conn

_TS = "'epoch'::timestamptz + %s * INTERVAL '1 millisecond'"


def _ms(col: str) -> str:
    return f"(extract(epoch FROM {col}) * 1000)::bigint"


def month_range_ms(year: int, month: int) -> tuple[int, int]:
    """[start, end) of a calendar month in UTC, epoch ms."""
    if not 1 <= month <= 12:
        raise ValueError(f"month {month}: expected 1..12")
    start = datetime(year, month, 1, tzinfo=UTC)
    days = calendar.monthrange(year, month)[1]
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    assert (end - start).days == days
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _dicts(cur: Any) -> list[dict[str, Any]]:
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def emission_records(conn: Conn, start_ms: int, end_ms: int, *, enterprise: str | None = None,
                     source: str | None = None, method: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Emission records in ``[start_ms, end_ms)`` with the leaf hash and seal that cover them."""
    rows = _dicts(conn.execute(
        f"SELECT source, enterprise, category, scope, {_ms('start_ts')} AS start_ms,"
        f" {_ms('end_ts')} AS end_ms, co2e_t, gases, factor_id, method FROM emissions"
        f" WHERE start_ts >= {_TS} AND start_ts < {_TS}"
        " AND (%s::text IS NULL OR enterprise = %s) AND (%s::text IS NULL OR source = %s)"
        " AND (%s::text IS NULL OR method = %s) ORDER BY source, start_ts",
        (start_ms, end_ms, enterprise, enterprise, source, source, method, method),
    ))  # fmt: skip
    return _with_leaves(conn, "emissions", rows)


def consumption_records(conn: Conn, points: list[str], start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    """Consumption intervals of ``points`` in ``[start_ms, end_ms)`` with their evidence."""
    rows = _dicts(conn.execute(
        f"SELECT point, enterprise, carrier, {_ms('start_ts')} AS start_ms,"
        f" {_ms('end_ts')} AS end_ms, quantity, uom, kgce FROM consumption"
        f" WHERE point = ANY(%s) AND start_ts >= {_TS} AND start_ts < {_TS}"
        " ORDER BY point, start_ts",
        (points, start_ms, end_ms),
    ))  # fmt: skip
    return _with_leaves(conn, "consumption", rows)


def _with_leaves(conn: Conn, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return rows
    t = TABLES[table]
    keys = [record_key(t, r) for r in rows]
    found = {
        k: (h, sid, root)
        for k, h, sid, root in conn.execute(
            "SELECT l.record_key, l.leaf_hash, l.seal_id, s.root FROM evidence_leaves l"
            " JOIN evidence_seals s USING (seal_id) WHERE l.record_key = ANY(%s)",
            (keys,),
        ).fetchall()
    }
    for key, r in zip(keys, rows, strict=True):
        h, sid, root = found.get(key, (None, None, None))
        r.update(record_key=key, leaf_hash=h, seal_id=sid, seal_root=root)
    return rows


def raw_readings(conn: Conn, points: list[str], start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    """Raw readings of ``points`` in ``[start_ms, end_ms]`` plus the nearest one either side,
    each with the batch it arrived in (batch hash, chain hash, seal root)."""
    return _dicts(conn.execute(
        f"WITH w AS (SELECT r.* FROM readings_raw r WHERE r.point = ANY(%(p)s)"
        f" AND r.ts BETWEEN {_TS.replace('%s', '%(s)s')} AND {_TS.replace('%s', '%(e)s')}"
        " UNION SELECT b.* FROM unnest(%(p)s::text[]) AS pt(point), LATERAL (SELECT * FROM"
        f" readings_raw r WHERE r.point = pt.point AND r.ts < {_TS.replace('%s', '%(s)s')}"
        " ORDER BY r.ts DESC LIMIT 1) b"
        " UNION SELECT a.* FROM unnest(%(p)s::text[]) AS pt(point), LATERAL (SELECT * FROM"
        f" readings_raw r WHERE r.point = pt.point AND r.ts > {_TS.replace('%s', '%(e)s')}"
        " ORDER BY r.ts LIMIT 1) a)"
        f" SELECT w.point, {_ms('w.ts')} AS ts_ms, w.value, w.q, w.device, w.seq,"
        " e.topic, e.partition, e.offset, e.batch_hash, e.chain_hash, e.seal_id, s.root AS seal_root"
        " FROM w LEFT JOIN LATERAL (SELECT * FROM evidence_batches b WHERE b.device = w.device"
        ' AND b.seq = w.seq ORDER BY b."offset" LIMIT 1) e ON TRUE'
        " LEFT JOIN evidence_seals s ON s.seal_id = e.seal_id ORDER BY w.point, w.ts",
        {"p": points, "s": start_ms, "e": end_ms},
    ))  # fmt: skip


def factors(conn: Conn, factor_ids: list[str], day: date) -> list[dict[str, Any]]:
    """Each factor id with its stored versions (values, validity, provenance, row hash) and the
    version in force on ``day``; ids not in the library (CEMS, measured) say what they mean."""
    out = []
    for fid in sorted(set(factor_ids)):
        rows = _dicts(conn.execute(
            'SELECT version, kind, subject, valid_from, valid_to, "values", units, attrs,'
            " provenance, row_hash, recorded_by, reason FROM factor_versions"
            " WHERE factor_id = %s ORDER BY version",
            (fid,),
        ))  # fmt: skip
        for r in rows:
            for k in ("valid_from", "valid_to"):
                r[k] = r[k].isoformat() if r[k] else None
        in_force = [r["version"] for r in rows
                    if (r["valid_from"] is None or r["valid_from"] <= day.isoformat())
                    and (r["valid_to"] is None or r["valid_to"] >= day.isoformat())]  # fmt: skip
        item: dict[str, Any] = {"factor_id": fid, "versions": rows,
                                "version_in_force": in_force[-1] if in_force else None}  # fmt: skip
        if not rows:
            item["note"] = _no_factor_note(fid)
        out.append(item)
    return out


def _no_factor_note(fid: str) -> str:
    if fid.startswith("cems."):
        return "measured by CEMS (no emission factor); see the stack's hourly data"
    if fid.startswith("measured."):
        return "an enterprise-measured value given in the park model"
    if fid.startswith("none."):
        return "no emissions for this carrier"
    return "not in factor_versions: run `nengtan evidence factors sync`"


def _summary_by(rows: list[dict[str, Any]], keys: tuple[str, ...], sums: tuple[str, ...]) -> list[dict[str, Any]]:
    acc: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        k = tuple(r[x] for x in keys)
        a = acc.setdefault(k, {**dict(zip(keys, k, strict=True)), "n": 0, "sealed": 0,
                               **{s: 0.0 for s in sums}})  # fmt: skip
        a["n"] += 1
        a["sealed"] += 1 if r.get("leaf_hash") or r.get("batch_hash") else 0
        for s in sums:
            a[s] += float(r[s])
    return list(acc.values())


def source_lineage(conn: Conn, start_ms: int, end_ms: int, *, enterprise: str | None = None,
                   source: str | None = None, method: str | None = None,
                   detail: bool = True) -> dict[str, Any]:  # fmt: skip
    """The lineage of the emission records selected: summaries per source, factor, point, and
    (with ``detail``) every record, interval, reading and CEMS hour with its evidence hashes.
    Without ``detail`` the summaries are computed in the database (a year stays quick)."""
    if not detail:
        return _summary(conn, start_ms, end_ms, enterprise, source, method)
    recs = emission_records(conn, start_ms, end_ms, enterprise=enterprise, source=source,
                            method=method)  # fmt: skip
    calc_points = sorted({r["source"] for r in recs if r["method"] == "calculated"})
    stacks = sorted({r["source"] for r in recs if r["method"] == "measured"})
    cons = consumption_records(conn, calc_points, start_ms, end_ms) if calc_points else []
    raw = raw_readings(conn, calc_points, start_ms, end_ms) if calc_points else []
    stack_points = _stack_points(conn, stacks, start_ms, end_ms)
    raw_cems = raw_readings(conn, stack_points, start_ms, end_ms) if stack_points else []
    cems = _cems_hours(conn, stacks, start_ms, end_ms) if stacks else []
    day = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    total = sum(float(r["co2e_t"]) for r in recs)
    return {
        "figure": {"enterprise": enterprise, "source": source, "method": method,
                   "start_ms": start_ms, "end_ms": end_ms, "co2e_t": total,
                   "n_emission_records": len(recs)},
        "sources": _summary_by(recs, ("source", "category", "scope", "method", "factor_id"),
                               ("co2e_t",)),
        "factors": factors(conn, [r["factor_id"] for r in recs], day),
        "consumption": _summary_by(cons, ("point", "carrier", "uom"), ("quantity", "kgce")),
        "raw": _summary_by(raw + raw_cems, ("point",), ()),
        "detail": {"emission_records": recs, "consumption": cons, "raw_readings": raw + raw_cems,
                   "cems_hours": cems},
    }


def _leaf_join(table: str, key_sql: str) -> str:
    return (f" LEFT JOIN evidence_leaves l ON l.record_key = '{table}:' || {key_sql}")


def _summary(conn: Conn, start_ms: int, end_ms: int, enterprise: str | None, source: str | None,
             method: str | None) -> dict[str, Any]:  # fmt: skip
    key = (f"e.source || '|' || {_ms('e.start_ts')} || '|' || {_ms('e.end_ts')}")
    sources = _dicts(conn.execute(
        "SELECT e.source, e.category, e.scope, e.method, e.factor_id, count(*) AS n,"
        " count(l.leaf_hash) AS sealed, sum(e.co2e_t) AS co2e_t FROM emissions e"
        + _leaf_join("emissions", key)
        + f" WHERE e.start_ts >= {_TS} AND e.start_ts < {_TS}"
        " AND (%s::text IS NULL OR e.enterprise = %s) AND (%s::text IS NULL OR e.source = %s)"
        " AND (%s::text IS NULL OR e.method = %s)"
        " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
        (start_ms, end_ms, enterprise, enterprise, source, source, method, method),
    ))  # fmt: skip
    for r in sources:
        r["co2e_t"] = float(r["co2e_t"])
    calc = sorted({r["source"] for r in sources if r["method"] == "calculated"})
    stacks = sorted({r["source"] for r in sources if r["method"] == "measured"})
    ckey = f"c.point || '|' || {_ms('c.start_ts')} || '|' || {_ms('c.end_ts')}"
    cons = _dicts(conn.execute(
        "SELECT c.point, c.carrier, c.uom, count(*) AS n, count(l.leaf_hash) AS sealed,"
        " sum(c.quantity) AS quantity, sum(c.kgce) AS kgce FROM consumption c"
        + _leaf_join("consumption", ckey)
        + f" WHERE c.point = ANY(%s) AND c.start_ts >= {_TS} AND c.start_ts < {_TS}"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        (calc, start_ms, end_ms),
    ))  # fmt: skip
    points = calc + _stack_points(conn, stacks, start_ms, end_ms)
    raw = _dicts(conn.execute(
        "SELECT r.point, count(*) AS n, count(b.batch_hash) AS sealed FROM readings_raw r"
        " LEFT JOIN LATERAL (SELECT batch_hash FROM evidence_batches b WHERE b.device = r.device"
        " AND b.seq = r.seq LIMIT 1) b ON TRUE"
        f" WHERE r.point = ANY(%s) AND r.ts >= {_TS} AND r.ts <= {_TS} GROUP BY 1 ORDER BY 1",
        (points, start_ms, end_ms),
    ))  # fmt: skip
    day = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    return {
        "figure": {"enterprise": enterprise, "source": source, "method": method,
                   "start_ms": start_ms, "end_ms": end_ms,
                   "co2e_t": sum(r["co2e_t"] for r in sources),
                   "n_emission_records": sum(int(r["n"]) for r in sources)},
        "sources": sources,
        "factors": factors(conn, [r["factor_id"] for r in sources], day),
        "consumption": [{**r, "quantity": float(r["quantity"]), "kgce": float(r["kgce"])}
                        for r in cons],
        "raw": raw,
    }


def _stack_points(conn: Conn, stacks: list[str], start_ms: int, end_ms: int) -> list[str]:
    """The species points ``{stack}.{species}`` with readings in the period."""
    if not stacks:
        return []
    rows = conn.execute(
        "SELECT DISTINCT point FROM readings_raw WHERE point LIKE ANY(%s)"
        f" AND ts >= {_TS} AND ts <= {_TS}",
        ([s.replace("%", r"\%").replace("_", r"\_") + ".%" for s in stacks], start_ms, end_ms),
    ).fetchall()
    return sorted(r[0] for r in rows)


def _cems_hours(conn: Conn, stacks: list[str], start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    rows = _dicts(conn.execute(
        f"SELECT stack, enterprise, {_ms('hour_start')} AS hour_start_ms, n_valid, valid, co2_t,"
        " substitution, pollutant_kg, pollutant_avg_mg_m3 FROM cems_hourly WHERE stack = ANY(%s)"
        f" AND hour_start >= {_TS} AND hour_start < {_TS} ORDER BY stack, hour_start",
        (stacks, start_ms, end_ms),
    ))  # fmt: skip
    return _with_leaves(conn, "cems_hourly", rows)


def enterprise_month(conn: Conn, enterprise: str, year: int, month: int,
                     method: str | None = "calculated", detail: bool = True) -> dict[str, Any]:  # fmt: skip
    """Lineage of an enterprise's monthly CO₂e (calculated by default; measured separately)."""
    start, end = month_range_ms(year, month)
    return source_lineage(conn, start, end, enterprise=enterprise, method=method, detail=detail)


def stack_hour(conn: Conn, stack: str, hour_start_ms: int, detail: bool = True) -> dict[str, Any]:
    """Lineage of one stack's hourly CO₂ mass (a measured record)."""
    return source_lineage(conn, hour_start_ms, hour_start_ms + 3_600_000, source=stack,
                          method="measured", detail=detail)  # fmt: skip


def without_detail(lineage: dict[str, Any]) -> dict[str, Any]:
    """The summary part (what the CLI prints and the API returns by default)."""
    return {k: v for k, v in lineage.items() if k != "detail"}
