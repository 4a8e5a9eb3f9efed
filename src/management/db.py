"""PostgreSQL edge of the management functions (tables of ``store/migrations/0300_management``):
metered daily quantities from the ``consumption`` table, the inputs document per park with its
change history, the management alert state, supply-chain payloads and evidence, and pollutant
tonnes from the CEMS hours. Callers scope results (``console`` passes the caller's scope)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg

from management.inputs import ManagementInputs, parse_inputs
from management.metered import Metered
from management.periods import Period
from management.supply import Outcome, Submission

Conn = psycopg.Connection[tuple[Any, ...]]


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def load_metered(conn: Conn, first: date, last: date,
                 points: list[str] | None = None) -> Metered:  # fmt: skip
    """Daily (UTC) quantities per point over ``[first, last]`` from the base table (exact in
    both storage modes, whatever the state of the continuous aggregates)."""
    rows = conn.execute(
        "SELECT point, (start_ts AT TIME ZONE 'UTC')::date AS day, sum(quantity)"
        " FROM consumption WHERE start_ts >= %(s)s AND start_ts < %(e)s"
        " AND (%(p)s::text[] IS NULL OR point = ANY(%(p)s)) GROUP BY 1, 2",
        {"s": _start(first), "e": _start(last + timedelta(days=1)), "p": points},
    ).fetchall()
    return Metered.from_rows((str(r[0]), r[1], float(r[2])) for r in rows)


def pollutants_t(conn: Conn, periods: list[Period]) -> dict[str, dict[str, dict[str, float]]]:
    """enterprise -> period -> pollutant -> t, from valid and substituted CEMS hours."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for p in periods:
        rows = conn.execute(
            "SELECT enterprise, k, sum((v)::double precision) FROM cems_hourly,"
            " jsonb_each_text(pollutant_kg) AS kv(k, v)"
            " WHERE hour_start >= %s AND hour_start < %s GROUP BY 1, 2",
            (_start(p.first), _start(p.last + timedelta(days=1))),
        ).fetchall()
        for ent, species, kg in rows:
            out.setdefault(str(ent), {}).setdefault(p.label, {})[str(species)] = float(kg) / 1000
    return out


def load_inputs(conn: Conn, park: str) -> ManagementInputs | None:
    row = conn.execute("SELECT document FROM mgmt_inputs WHERE park = %s", (park,)).fetchone()
    return None if row is None else parse_inputs(row[0], f"mgmt_inputs[{park}]")


def load_park_document(conn: Conn) -> tuple[str, Any] | None:
    """(park id, park model document) of the most recently stored inputs, if any."""
    row = conn.execute(
        "SELECT park, park_document FROM mgmt_inputs WHERE park_document IS NOT NULL"
        " ORDER BY updated_at DESC LIMIT 1").fetchone()
    return None if row is None else (str(row[0]), row[1])


def save_inputs(conn: Conn, inputs: ManagementInputs, changed_by: str, change: str,
                park_document: Any = None) -> None:  # fmt: skip
    """Replace a park's inputs document (and, when given, its park model) and record the
    change, in one transaction."""
    doc = json.dumps(inputs.model_dump(mode="json", by_alias=True))
    park_doc = None if park_document is None else json.dumps(park_document, default=str)
    with conn.transaction():
        conn.execute(
            "INSERT INTO mgmt_inputs (park, document, park_document, updated_at)"
            " VALUES (%s, %s::jsonb, %s::jsonb, now())"
            " ON CONFLICT (park) DO UPDATE SET document = EXCLUDED.document,"
            " park_document = coalesce(EXCLUDED.park_document, mgmt_inputs.park_document),"
            " updated_at = now()", (inputs.park, doc, park_doc))
        conn.execute(
            "INSERT INTO mgmt_inputs_history (park, changed_by, change, document)"
            " VALUES (%s, %s, %s, %s::jsonb)", (inputs.park, changed_by, change, doc))


def active_alerts(conn: Conn) -> dict[str, str]:
    rows = conn.execute("SELECT key, alert_id FROM mgmt_alert_state").fetchall()
    return {str(k): str(a) for k, a in rows}


def save_alert_state(conn: Conn, before: dict[str, str], after: dict[str, str],
                     enterprise_of: dict[str, str], ts_ms: int) -> None:  # fmt: skip
    """Apply the difference of the active maps (after the alerts were acknowledged by Kafka)."""
    with conn.transaction():
        for key in before.keys() - after.keys():
            conn.execute("DELETE FROM mgmt_alert_state WHERE key = %s", (key,))
        for key in after.keys() - before.keys():
            conn.execute(
                "INSERT INTO mgmt_alert_state (key, alert_id, enterprise, raised_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                (key, after[key], enterprise_of[key], datetime.fromtimestamp(ts_ms / 1000, UTC)))


def store_submission(conn: Conn, outcome: Outcome, payload: bytes) -> None:
    """Keep the payload and one evidence record per row (idempotent: same bytes, same ids)."""
    evs = [ev for _, ev in outcome.accepted] + [ev for _, ev in outcome.rejected]
    if not evs:
        return
    first = evs[0]
    with conn.transaction():
        conn.execute(
            "INSERT INTO mgmt_supplier_payloads (sha256, channel, submitter, received_at, payload)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING",
            (first.payload_sha256, first.channel, first.submitter,
             datetime.fromtimestamp(first.received_ms / 1000, UTC), payload))
        rows: list[tuple[Any, ...]] = []
        for sub, ev in outcome.accepted:
            rows.append((ev, sub.enterprise, sub.model_dump()))
        for data, ev in outcome.rejected:
            ent = data.get("enterprise")
            rows.append((ev, ent if isinstance(ent, str) else None, data))
        for ev, ent, rec in rows:
            conn.execute(
                "INSERT INTO mgmt_supplier_evidence (evidence_id, payload_sha256, row_no,"
                " accepted, reason, enterprise, record) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)"
                " ON CONFLICT (evidence_id) DO NOTHING",
                (ev.evidence_id, ev.payload_sha256, ev.row, ev.accepted, ev.reason, ent,
                 json.dumps(rec, default=str)))


def submissions(conn: Conn, enterprise: str | None = None) -> list[Submission]:
    """Accepted supplier figures (oldest first, so later ones take precedence)."""
    rows = conn.execute(
        "SELECT e.record FROM mgmt_supplier_evidence e JOIN mgmt_supplier_payloads p"
        " ON p.sha256 = e.payload_sha256 WHERE e.accepted"
        " AND (%(e)s::text IS NULL OR e.enterprise = %(e)s) ORDER BY p.received_at, e.row_no",
        {"e": enterprise},
    ).fetchall()
    return [Submission.model_validate(r[0]) for r in rows]


def evidence(conn: Conn, enterprise: str | None, sees_all: bool) -> list[dict[str, Any]]:
    """Evidence records: all (park-wide roles) or one enterprise's."""
    cur = conn.execute(
        "SELECT e.evidence_id, e.payload_sha256, p.channel, p.submitter, p.received_at,"
        " e.row_no, e.accepted, e.reason, e.enterprise, e.record"
        " FROM mgmt_supplier_evidence e JOIN mgmt_supplier_payloads p"
        " ON p.sha256 = e.payload_sha256"
        " WHERE (e.enterprise = %(e)s OR %(all)s) ORDER BY p.received_at, e.row_no",
        {"e": enterprise, "all": sees_all},
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
