"""Frozen report revisions: what was reported stays as it was reported.

Issuing a report stores its body (canonical JSON) and hash as a revision and records an
evidence event. Issuing again returns the frozen revision when the figures are unchanged; when
the stored figures now differ (late data, a recalculation), it refuses unless a new revision is
asked for with a reason: an issued revision is never rewritten.
"""

from __future__ import annotations

import json
import time
from typing import Any

from evidence import events
from evidence.hashing import canonical, sha256_hex
from evidence.seals import Conn
from nengtan.errors import ConfigError

FIGURES = ("sources", "activity_data", "emissions", "energy", "measured_vs_calculated",
           "corrected_total_co2e_t")  # fmt: skip
"""The parts of a body that are the reported figures (data-quality notes may grow as sealing
proceeds without making a new revision necessary)."""


REL_TOL = 1e-9
"""Figures equal to this relative tolerance are the same figures: database sums are not
bit-for-bit reproducible (parallel aggregation adds floats in a different order), and a
difference in the 15th digit is not late data."""


def _figures(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body.get(k) for k in FIGURES}


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The path of the first figure that differs between ``a`` and ``b`` (floats compared to
    ``REL_TOL``), or None when they are the same figures."""
    if isinstance(a, bool) or isinstance(b, bool):
        same = isinstance(a, bool) and isinstance(b, bool) and a == b
        return None if same else path or "/"
    if isinstance(a, int | float) and isinstance(b, int | float):
        if a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b)):
            return None
        return path or "/"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}/{k}"
            d = first_difference(a[k], b[k], f"{path}/{k}")
            if d is not None:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}[len {len(a)} != {len(b)}]"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d is not None:
                return d
        return None
    return None if a == b else path or "/"


def latest(conn: Conn, enterprise: str, year: int) -> tuple[int, dict[str, Any]] | None:
    """The newest issued revision and its body."""
    row = conn.execute(
        "SELECT revision, body FROM report_snapshots WHERE enterprise = %s AND year = %s"
        " ORDER BY revision DESC LIMIT 1",
        (enterprise, year),
    ).fetchone()
    return None if row is None else (int(row[0]), json.loads(row[1]))


def issue(conn: Conn, body: dict[str, Any], actor: str, reason: str | None,
          revise: bool = False) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """Freeze ``body`` as a revision; returns (the frozen body, whether it is new)."""
    enterprise, year = body["entity"]["id"], int(body["period"]["year"])
    body = json.loads(canonical(body))  # the exact form that is stored and hashed
    prev = latest(conn, enterprise, year)
    diff = None if prev is None else first_difference(_figures(prev[1]), _figures(body))
    if prev is not None and diff is None:
        return prev[1], False
    if prev is not None and not revise:
        raise ConfigError(
            f"report {enterprise} {year} revision {prev[0]} was issued with total "
            f"{prev[1]['emissions']['total_co2e_t']:.6f} t CO2e (corrected "
            f"{prev[1]['corrected_total_co2e_t']:.6f} t); the stored figures now give "
            f"{body['emissions']['total_co2e_t']:.6f} t (corrected {body['corrected_total_co2e_t']:.6f} t); "
            f"first difference at {diff}. "
            f"Revision {prev[0]} stays as issued; give --revise --reason WHY to issue revision {prev[0] + 1}"
        )
    if prev is not None and not (reason and reason.strip()):
        raise ConfigError("a new revision needs --reason")
    revision = 1 if prev is None else prev[0] + 1
    body["revision"] = revision
    text = canonical(body).decode("utf-8")
    h = sha256_hex(text.encode("utf-8"))
    why = reason or "first issue"
    now = int(time.time() * 1000)
    with conn.transaction():
        ev = events.record(conn, "report_snapshot", f"{enterprise}/{year}/{revision}", actor, why,
                           {"body_hash": h, "total_co2e_t": body["emissions"]["total_co2e_t"],
                            "corrected_total_co2e_t": body["corrected_total_co2e_t"]}, now)  # fmt: skip
        conn.execute(
            "INSERT INTO report_snapshots (enterprise, year, revision, created_at, created_by,"
            " reason, body, body_hash, event_id) VALUES (%s, %s, %s, 'epoch'::timestamptz + %s"
            " * INTERVAL '1 millisecond', %s, %s, %s, %s, %s)",
            (enterprise, year, revision, now, actor, why, text, h, ev.event_id),
        )
    return body, True
