"""Recalculation of a past period with a corrected factor version, recorded, never rewriting.

The emission records stay as the streams stored them (they are what was measured and computed
at the time, and sealed); the recalculation stores the original and corrected totals, the
versions used, who, when and why, as an evidence event and a ``recalculations`` row. Reports
issued before stay frozen; the next revision of a report shows the corrected figure beside the
original.

An emission is linear in the factor it names, so a record's corrected CO₂e is its stored CO₂e
times the ratio of the corrected to the applied emission coefficient (for fuels
``NCV × CC × OF``, or ``ef``; for grid, heat, process and life-cycle factors ``ef``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from evidence import events
from evidence.factors import FactorVersion, versions
from evidence.seals import Conn
from nengtan.errors import ConfigError

_TS = "'epoch'::timestamptz + %s * INTERVAL '1 millisecond'"


@dataclass(frozen=True, slots=True)
class Recalculation:
    recalc_id: int
    enterprise: str
    factor_id: str
    from_version: int
    to_version: int
    n_records: int
    original_co2e_t: float
    corrected_co2e_t: float
    event_id: int


def coefficient(v: FactorVersion) -> float:
    """The emission coefficient a factor version contributes (what the CO₂e is linear in)."""
    vals = v.values
    if v.kind == "fuel":
        if {"ncv", "cc", "of"} <= vals.keys():
            return float(vals["ncv"]) * float(vals["cc"]) * float(vals["of"])
        for k in ("ef", "ef_per_gj"):
            if k in vals:
                return float(vals[k])
    if v.kind in ("grid", "heat", "process", "lca") and "ef" in vals:
        return float(vals["ef"])
    raise ConfigError(f"factor {v.factor_id} ({v.kind}): no single emission coefficient to rescale")


def applied_version(conn: Conn, factor_id: str) -> int:
    """The version the streams applied: the newest one loaded from the factor library."""
    row = conn.execute(
        "SELECT max(version) FROM factor_versions WHERE factor_id = %s"
        " AND reason LIKE 'factor library%%'",
        (factor_id,),
    ).fetchone()
    if row is None or row[0] is None:
        raise ConfigError(f"factor {factor_id!r} not in factor_versions; run `nengtan evidence factors sync`")
    return int(row[0])


def recalculate(conn: Conn, enterprise: str, start_ms: int, end_ms: int, factor_id: str,
                to_version: int, actor: str, reason: str) -> Recalculation:  # fmt: skip
    """Record the corrected CO₂e of ``enterprise``'s records naming ``factor_id`` in
    ``[start_ms, end_ms)`` under ``to_version``."""
    by_version = {v.version: v for v in versions(conn, factor_id)}
    if to_version not in by_version:
        raise ConfigError(f"factor {factor_id!r} has no version {to_version}; versions: {sorted(by_version)}")
    from_version = applied_version(conn, factor_id)
    ratio = coefficient(by_version[to_version]) / coefficient(by_version[from_version])
    row = conn.execute(
        "SELECT count(*), coalesce(sum(co2e_t), 0) FROM emissions WHERE enterprise = %s"
        f" AND factor_id = %s AND method = 'calculated' AND start_ts >= {_TS} AND start_ts < {_TS}",
        (enterprise, factor_id, start_ms, end_ms),
    ).fetchone()
    assert row is not None
    n, original = int(row[0]), float(row[1])
    if n == 0:
        raise ConfigError(f"no emission records of {enterprise} use {factor_id} in that period")
    corrected = original * ratio
    body: dict[str, Any] = {
        "enterprise": enterprise, "start_ms": start_ms, "end_ms": end_ms,
        "factor_id": factor_id, "from_version": from_version, "to_version": to_version,
        "n_records": n, "original_co2e_t": original, "corrected_co2e_t": corrected,
        "ratio": ratio,
    }  # fmt: skip
    with conn.transaction():
        ev = events.record(conn, "recalculation", f"{enterprise}/{factor_id}", actor, reason, body,
                           int(time.time() * 1000))  # fmt: skip
        got = conn.execute(
            "INSERT INTO recalculations (enterprise, start_ts, end_ts, factor_id, from_version,"
            " to_version, n_records, original_co2e_t, corrected_co2e_t, actor, at_ts, reason,"
            f" event_id) VALUES (%s, {_TS}, {_TS}, %s, %s, %s, %s, %s, %s, %s, {_TS}, %s, %s)"
            " RETURNING recalc_id",
            (enterprise, start_ms, end_ms, factor_id, from_version, to_version, n, original,
             corrected, actor, ev.at_ms, reason, ev.event_id),
        ).fetchone()
    assert got is not None
    return Recalculation(int(got[0]), enterprise, factor_id, from_version, to_version, n,
                         original, corrected, ev.event_id)  # fmt: skip


def recalculations(conn: Conn, enterprise: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    """Recorded recalculations overlapping ``[start_ms, end_ms)``, oldest first."""
    cur = conn.execute(
        "SELECT recalc_id, factor_id, from_version, to_version, n_records, original_co2e_t,"
        " corrected_co2e_t, actor, at_ts, reason, event_id,"
        " (extract(epoch FROM start_ts) * 1000)::bigint AS start_ms,"
        " (extract(epoch FROM end_ts) * 1000)::bigint AS end_ms FROM recalculations"
        f" WHERE enterprise = %s AND start_ts < {_TS} AND end_ts > {_TS} ORDER BY recalc_id",
        (enterprise, end_ms, start_ms),
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
