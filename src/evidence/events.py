"""Evidence events: who did what, when and why, for everything that is not a streamed batch.

Manual entries, factor versions, recalculations, report snapshots and notes are events. Each
stores its body (the *what*) and is chained to the previous event:
``event_hash = SHA-256(prev_hash || canonical(kind, subject, actor, at_ms, reason, body))``, so a
changed, removed or reordered event breaks the chain at that event.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from evidence.hashing import GENESIS, canonical, sha256_hex
from evidence.seals import Conn

KINDS = (
    "manual_entry",
    "factor_version",
    "recalculation",
    "report_snapshot",
    "note",
    # a console request worth an audit record (a write, or a park-wide role's read): the
    # body is the ``console_audit`` row, which carries this event's id
    "console_audit",
)


@dataclass(frozen=True, slots=True)
class Event:
    event_id: int
    kind: str
    subject: str
    actor: str
    at_ms: int
    reason: str
    body: dict[str, Any]
    prev_hash: str
    event_hash: str


def event_hash_of(prev_hash: str, kind: str, subject: str, actor: str, at_ms: int, reason: str,
                  body: dict[str, Any]) -> str:  # fmt: skip
    """The chained hash of one event."""
    payload = canonical({"kind": kind, "subject": subject, "actor": actor, "at_ms": at_ms,
                         "reason": reason, "body": body})  # fmt: skip
    return sha256_hex(bytes.fromhex(prev_hash) + payload)


def record(conn: Conn, kind: str, subject: str, actor: str, reason: str,
           body: dict[str, Any], at_ms: int | None = None) -> Event:  # fmt: skip
    """Append one event (in the caller's transaction, if any). ``actor`` and ``reason`` are
    required: an unexplained change is exactly what the ledger exists to prevent."""
    if kind not in KINDS:
        raise ValueError(f"event kind {kind!r}: one of {', '.join(KINDS)}")
    if not actor.strip() or not reason.strip():
        raise ValueError(f"{kind} {subject}: who (actor) and why (reason) are required")
    at = int(time.time() * 1000) if at_ms is None else at_ms
    with conn.transaction():
        conn.execute("LOCK TABLE evidence_events IN SHARE ROW EXCLUSIVE MODE")
        row = conn.execute(
            "SELECT event_hash FROM evidence_events ORDER BY event_id DESC LIMIT 1"
        ).fetchone()
        prev = GENESIS if row is None else str(row[0])
        h = event_hash_of(prev, kind, subject, actor, at, reason, body)
        got = conn.execute(
            "INSERT INTO evidence_events (kind, subject, actor, at_ts, reason, body, prev_hash,"
            " event_hash) VALUES (%s, %s, %s, 'epoch'::timestamptz + %s * INTERVAL"
            " '1 millisecond', %s, %s, %s, %s) RETURNING event_id",
            (kind, subject, actor, at, reason, canonical(body).decode("utf-8"), prev, h),
        ).fetchone()
    assert got is not None
    return Event(int(got[0]), kind, subject, actor, at, reason, body, prev, h)


def events(conn: Conn, kind: str | None = None, subject: str | None = None) -> list[Event]:
    """Stored events in chain order, optionally filtered."""
    rows = conn.execute(
        "SELECT event_id, kind, subject, actor, (extract(epoch FROM at_ts) * 1000)::bigint,"
        " reason, body, prev_hash, event_hash FROM evidence_events"
        " WHERE (%(k)s::text IS NULL OR kind = %(k)s) AND (%(s)s::text IS NULL OR subject = %(s)s)"
        " ORDER BY event_id",
        {"k": kind, "s": subject},
    ).fetchall()
    return [
        Event(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], json.loads(r[6]), r[7], r[8])
        for r in rows
    ]
