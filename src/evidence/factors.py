"""Factor versions in the database: the library's records as the figures in force, and
corrections with validity periods, each an evidence event.

The streams apply the factor library (``accounting.factors``); ``sync`` snapshots each library
record as version 1 (and a changed data file as a new version), so the exact figures behind a
period's emission records are in the database and hashed. A correction (``correct``) adds a
version valid from a date; it changes nothing already stored or reported: it is used by a
recalculation (``evidence.recalc``) that is itself recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from accounting.factors import Factor, FactorLibrary, default_library
from evidence import events
from evidence.hashing import canonical, sha256_hex
from evidence.seals import Conn
from nengtan.errors import ConfigError


@dataclass(frozen=True, slots=True)
class FactorVersion:
    factor_id: str
    version: int
    kind: str
    subject: str
    valid_from: date | None
    valid_to: date | None
    values: dict[str, float]
    units: dict[str, str]
    attrs: dict[str, Any]
    provenance: dict[str, Any]
    row_hash: str

    def content(self) -> dict[str, Any]:
        """What the row hash covers: every column that gives the figure its meaning."""
        return {
            "factor_id": self.factor_id,
            "version": self.version,
            "kind": self.kind,
            "subject": self.subject,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "values": self.values,
            "units": self.units,
            "attrs": self.attrs,
            "provenance": self.provenance,
        }

    def covers(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_to is not None and day > self.valid_to)


def content_hash(content: dict[str, Any]) -> str:
    return sha256_hex(canonical(content))


def _from_factor(f: Factor, version: int) -> dict[str, Any]:
    p = f.provenance
    return {
        "factor_id": f.id,
        "version": version,
        "kind": f.kind,
        "subject": f.subject,
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        "values": {k: float(v) for k, v in f.values.items()},
        "units": dict(f.units),
        "attrs": {k: v for k, v in f.attrs.items()},
        "provenance": p.as_dict(),
    }


_SELECT = (
    "SELECT factor_id, version, kind, subject, valid_from, valid_to, \"values\", units, attrs,"
    " provenance, row_hash FROM factor_versions"
)


def versions(conn: Conn, factor_id: str | None = None) -> list[FactorVersion]:
    """Stored versions (of one factor), by id then version."""
    rows = conn.execute(
        _SELECT + " WHERE (%(f)s::text IS NULL OR factor_id = %(f)s) ORDER BY factor_id, version",
        {"f": factor_id},
    ).fetchall()
    return [FactorVersion(*r) for r in rows]


def _insert(conn: Conn, content: dict[str, Any], actor: str, reason: str, at_ms: int) -> None:
    h = content_hash(content)
    conn.execute(
        "INSERT INTO factor_versions (factor_id, version, kind, subject, valid_from, valid_to,"
        ' "values", units, attrs, provenance, row_hash, recorded_at, recorded_by, reason)'
        " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s::jsonb, %s,"
        " 'epoch'::timestamptz + %s * INTERVAL '1 millisecond', %s, %s)",
        (content["factor_id"], content["version"], content["kind"], content["subject"],
         content["valid_from"], content["valid_to"], canonical(content["values"]).decode(),
         canonical(content["units"]).decode(), canonical(content["attrs"]).decode(),
         canonical(content["provenance"]).decode(), h, at_ms, actor, reason),
    )
    events.record(conn, "factor_version", f"{content['factor_id']}@{content['version']}", actor,
                  reason, {"row_hash": h, "content": content}, at_ms)  # fmt: skip


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "version"} == {
        k: v for k, v in b.items() if k != "version"
    }


def sync(conn: Conn, actor: str = "nengtan", library: FactorLibrary | None = None) -> int:
    """Store each library factor not stored yet (version 1), or whose data no stored version
    matches (the data file changed: a new version). Returns how many versions were added."""
    lib = library or default_library()
    now = int(time.time() * 1000)
    added = 0
    with conn.transaction():
        by_id: dict[str, list[FactorVersion]] = {}
        for v in versions(conn):
            by_id.setdefault(v.factor_id, []).append(v)
        for f in lib.all():
            have = by_id.get(f.id, [])
            wanted = _from_factor(f, 0)
            if any(_same(wanted, v.content()) for v in have):
                continue
            version = have[-1].version + 1 if have else 1
            reason = "factor library data file changed" if have else "factor library loaded"
            _insert(conn, _from_factor(f, version), actor, reason, now)
            added += 1
    return added


def correct(conn: Conn, factor_id: str, values: dict[str, float], valid_from: date,
            valid_to: date | None, actor: str, reason: str,
            provenance: dict[str, Any] | None = None) -> FactorVersion:  # fmt: skip
    """Add a corrected version of ``factor_id`` valid over ``[valid_from, valid_to]``."""
    have = versions(conn, factor_id)
    if not have:
        raise ConfigError(
            f"factor {factor_id!r} has no stored version; run `nengtan evidence factors sync`"
        )
    base = have[-1]
    unknown = set(values) - set(base.values)
    if unknown:
        raise ConfigError(
            f"factor {factor_id}: no value named {sorted(unknown)}; it has {sorted(base.values)}"
        )
    content = base.content()
    content["version"] = base.version + 1
    content["values"] = {**base.values, **{k: float(v) for k, v in values.items()}}
    content["valid_from"] = valid_from.isoformat()
    content["valid_to"] = valid_to.isoformat() if valid_to else None
    content["provenance"] = {**base.provenance, **(provenance or {}),
                             "valid_from": content["valid_from"], "valid_to": content["valid_to"]}  # fmt: skip
    with conn.transaction():
        _insert(conn, content, actor, reason, int(time.time() * 1000))
    return versions(conn, factor_id)[-1]


def in_force(conn: Conn, factor_id: str, day: date) -> FactorVersion | None:
    """The newest version of ``factor_id`` whose validity covers ``day``."""
    found = [v for v in versions(conn, factor_id) if v.covers(day)]
    return found[-1] if found else None
