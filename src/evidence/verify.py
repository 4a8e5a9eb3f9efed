"""Recompute every hash of the ledger and compare the stored data with it.

Checks, in order (the first problem is the first broken link): the raw batches (payload against
batch hash, per-source chain), the seals of batches (Merkle roots, the seal chain), the raw
reading rows against the batches they came from, the stored records against the row hashes
sealed for their period, the factor versions against their recorded hashes, the event chain
and the frozen report snapshots. Each problem names the record (table and natural key).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from evidence.events import event_hash_of
from evidence.factors import FactorVersion, content_hash
from evidence.hashing import GENESIS, canonical, chain_hash, merkle_root, sha256_hex
from evidence.records import TABLES, Table, read_rows, record_key, row_hash
from evidence.seals import Conn, Seal, seal_hash_of, seals

_EPOCH = "'epoch'::timestamptz + %s * INTERVAL '1 millisecond'"


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken link: ``record`` names what no longer matches, ``detail`` how."""

    check: str
    record: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.record}: {self.detail}"


@dataclass(slots=True)
class Verification:
    """What was checked (counts per check) and every problem found, in check order."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    pending: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, check: str, record: str, detail: str) -> None:
        self.problems.append(Problem(check, record, detail))

    def count(self, check: str, n: int = 1) -> None:
        self.counts[check] = self.counts.get(check, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts,
            "pending_rows": self.pending,
            "first_broken_link": str(self.problems[0]) if self.problems else None,
            "problems": [
                {"check": p.check, "record": p.record, "detail": p.detail} for p in self.problems
            ],
        }


def verify(conn: Conn, from_ms: int | None = None, to_ms: int | None = None,
           published: set[str] | None = None) -> Verification:  # fmt: skip
    """Run every check over ``[from_ms, to_ms)`` (batches by sent time, readings by their
    time, records by their period; chains of seals, factors and events always whole). With
    ``published`` (the seal hashes read from ``nt.evidence.roots.v1``), every seal marked
    published must be among them: a ledger rewritten after publication is caught even if every
    hash in the database was recomputed."""
    out = Verification()
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        all_seals = seals(conn)
        _check_batches(conn, out, from_ms, to_ms)
        _check_seal_chains(out, all_seals)
        if published is not None:
            _check_published(conn, out, published)
        _check_batch_seals(conn, out, [s for s in all_seals if s.kind == "readings"])
        _check_raw_rows(conn, out, from_ms, to_ms)
        for table in TABLES.values():
            _check_table(conn, out, table, [s for s in all_seals if s.kind == table.name],
                         from_ms, to_ms)  # fmt: skip
        _check_factors(conn, out)
        _check_events(conn, out)
        _check_snapshots(conn, out)
    return out


def _window(col: str, from_ms: int | None, to_ms: int | None) -> tuple[str, list[Any]]:
    sql, args = "", []
    if from_ms is not None:
        sql += f" AND {col} >= {_EPOCH}"
        args.append(from_ms)
    if to_ms is not None:
        sql += f" AND {col} < {_EPOCH}"
        args.append(to_ms)
    return sql, args


def _batch_name(topic: str, partition: int, offset: int, device: str, seq: int | None) -> str:
    return f"evidence_batches {topic}/{partition}@{offset} (device {device}, seq {seq})"


def _check_batches(conn: Conn, out: Verification, from_ms: int | None, to_ms: int | None) -> None:
    where, args = _window("sent_ts", from_ms, to_ms)
    cur = conn.execute(
        'SELECT topic, "partition", "offset", device, seq, payload, batch_hash, prev_chain,'
        f' chain_hash FROM evidence_batches WHERE TRUE{where} ORDER BY topic, "partition", "offset"',
        args,
    )
    last: dict[str, str] = {}
    for topic, part, off, device, seq, payload, bh, prev, ch in cur.fetchall():
        name = _batch_name(topic, part, off, device, seq)
        out.count("batches")
        if sha256_hex(bytes(payload)) != bh:
            out.add("batches", name, f"payload does not match its batch hash {bh[:16]}…")
        if chain_hash(prev, bh) != ch:
            out.add("batches", name, "chain hash is not SHA-256(prev_chain || batch_hash)")
        expected_prev = last.get(device)
        if expected_prev is None:
            if prev != GENESIS:
                found = conn.execute(
                    "SELECT 1 FROM evidence_batches WHERE device = %s AND chain_hash = %s",
                    (device, prev),
                ).fetchone()
                if found is None:
                    out.add("batches", name, "links to a previous batch that is not in the ledger")
        elif prev != expected_prev:
            out.add("batches", name, "does not link to the previous batch of its source")
        last[device] = ch


def _check_seal_chains(out: Verification, all_seals: list[Seal]) -> None:
    last: dict[tuple[str, str], str] = {}
    for s in all_seals:
        name = f"evidence_seals #{s.seal_id} ({s.kind} {s.scope} {s.range_from}..{s.range_to})"
        out.count("seals")
        if seal_hash_of(s.kind, s.scope, s.range_from, s.range_to, s.n_leaves, s.root,
                        s.prev_seal_hash) != s.seal_hash:  # fmt: skip
            out.add("seals", name, "seal hash does not match its header")
        want = last.get((s.kind, s.scope), GENESIS)
        if s.prev_seal_hash != want:
            out.add("seals", name, "does not link to the previous seal of its kind")
        last[(s.kind, s.scope)] = s.seal_hash


def _check_published(conn: Conn, out: Verification, published: set[str]) -> None:
    for seal_id, kind, scope, h in conn.execute(
        "SELECT seal_id, kind, scope, seal_hash FROM evidence_seals"
        " WHERE published_at IS NOT NULL ORDER BY seal_id"
    ).fetchall():
        out.count("published roots")
        if h not in published:
            out.add("published roots", f"evidence_seals #{seal_id} ({kind} {scope})",
                    "its seal hash is not among the roots published on nt.evidence.roots.v1")  # fmt: skip


def _check_batch_seals(conn: Conn, out: Verification, readings_seals: list[Seal]) -> None:
    for s in readings_seals:
        leaves = [r[0] for r in conn.execute(
            'SELECT chain_hash FROM evidence_batches WHERE seal_id = %s ORDER BY "offset"',
            (s.seal_id,)).fetchall()]  # fmt: skip
        name = f"evidence_seals #{s.seal_id} ({s.scope} offsets {s.range_from}..{s.range_to})"
        if len(leaves) != s.n_leaves:
            out.add("seals", name, f"holds {len(leaves)} batches, sealed {s.n_leaves}")
        elif merkle_root(leaves) != s.root:
            out.add("seals", name, "Merkle root of its batches differs from the sealed root")


SENT_MARGIN_MS = 86_400_000
"""Batches sent up to a day outside a verification window are read for its readings (a late
batch carries older readings)."""


def _expected_readings(conn: Conn, from_ms: int | None, to_ms: int | None) -> Iterator[tuple[Any, ...]]:
    """(point, ts_ms, value, q, device, seq, batch name) of every reading in ``[from_ms, to_ms)``
    of the ledger's batches sent within a day of that window."""
    where, args = _window(
        "sent_ts",
        None if from_ms is None else from_ms - SENT_MARGIN_MS,
        None if to_ms is None else to_ms + SENT_MARGIN_MS,
    )
    cur = conn.execute(
        'SELECT topic, "partition", "offset", device, seq, payload FROM evidence_batches'
        f' WHERE TRUE{where} ORDER BY topic, "partition", "offset"',
        args,
    )
    for topic, part, off, device, seq, payload in cur:
        try:
            batch = json.loads(bytes(payload))
            readings = batch["readings"]
        except (ValueError, KeyError, TypeError):
            continue  # not a batch: the sink dead-lettered it, no rows expected
        name = _batch_name(topic, part, off, device, seq)
        for r in readings:
            ts, value = r.get("ts"), r.get("value")
            if not isinstance(ts, int) or not isinstance(value, int | float):
                continue
            if (from_ms is not None and ts < from_ms) or (to_ms is not None and ts >= to_ms):
                continue
            yield (r.get("point"), ts, float(value), r.get("q", "good"),
                   batch.get("device", device), batch.get("seq", seq), name)  # fmt: skip


def _check_raw_rows(conn: Conn, out: Verification, from_ms: int | None, to_ms: int | None) -> None:
    conn.execute(
        "CREATE TEMP TABLE ev_expected (point text, ts_ms bigint, value double precision,"
        " q text, device text, seq bigint, batch text) ON COMMIT DROP"
    )
    expected = list(_expected_readings(conn, from_ms, to_ms))  # the connection is busy in COPY
    with conn.cursor() as cur, cur.copy(
        "COPY ev_expected (point, ts_ms, value, q, device, seq, batch) FROM STDIN"
    ) as copy:
        for row in expected:
            copy.write_row(row)
    out.count("raw readings", len(expected))
    conn.execute("CREATE INDEX ON ev_expected (point, ts_ms)")
    conn.execute("ANALYZE ev_expected")
    ts = "'epoch'::timestamptz + e.ts_ms * INTERVAL '1 millisecond'"
    for point, ts_ms, batch in conn.execute(
        f"SELECT e.point, e.ts_ms, e.batch FROM ev_expected e WHERE NOT EXISTS"
        f" (SELECT 1 FROM readings_raw r WHERE r.point = e.point AND r.ts = {ts})"
        " ORDER BY e.ts_ms, e.point"
    ).fetchall():
        out.add("raw readings", f"readings_raw point={point} ts={ts_ms}",
                f"missing; it is in {batch}")  # fmt: skip
    for point, ts_ms, value, q, ev, eq, batch in conn.execute(
        f"SELECT e.point, e.ts_ms, r.value, r.q, e.value, e.q, e.batch FROM ev_expected e"
        f" JOIN readings_raw r ON r.point = e.point AND r.ts = {ts}"
        " AND r.device = e.device AND r.seq = e.seq"
        " WHERE r.value IS DISTINCT FROM e.value OR r.q IS DISTINCT FROM e.q"
        " ORDER BY e.ts_ms, e.point"
    ).fetchall():
        out.add("raw readings", f"readings_raw point={point} ts={ts_ms}",
                f"stored value {value!r} q={q} but {batch} says {ev!r} q={eq}")  # fmt: skip
    where, args = _window("r.ts", from_ms, to_ms)
    rts = "(extract(epoch FROM r.ts) * 1000)::bigint"
    loaded = {(e[4], e[5]) for e in expected}
    for point, ts_ms, device, seq, in_ledger, pending in conn.execute(
        f"SELECT r.point, {rts}, r.device, r.seq,"
        " EXISTS (SELECT 1 FROM evidence_batches b WHERE b.device = r.device AND b.seq = r.seq),"
        " NOT EXISTS (SELECT 1 FROM evidence_batches b WHERE b.device = r.device AND b.seq >= r.seq)"
        " FROM readings_raw r WHERE NOT EXISTS (SELECT 1 FROM ev_expected e WHERE"
        f" e.point = r.point AND e.ts_ms = {rts} AND e.device = r.device AND e.seq = r.seq){where}"
        " ORDER BY r.ts, r.point",
        args,
    ).fetchall():
        name = f"readings_raw point={point} ts={ts_ms}"
        if pending:
            out.pending += 1
        elif in_ledger and (device, seq) in loaded:
            out.add("raw readings", name, f"not in the batch it names (device {device}, seq {seq})")
        elif in_ledger:
            out.count("raw readings outside the window's batches")
        else:
            out.add("raw readings", name,
                    f"no evidence batch device {device} seq {seq} (added outside ingestion)")  # fmt: skip


def _check_table(conn: Conn, out: Verification, table: Table, table_seals: list[Seal],
                 from_ms: int | None, to_ms: int | None) -> None:  # fmt: skip
    check = f"{table.name} records"
    for s in table_seals:
        if (from_ms is not None and s.range_to <= from_ms) or (to_ms is not None and s.range_from >= to_ms):
            continue
        leaves = conn.execute(
            "SELECT record_key, leaf_hash FROM evidence_leaves WHERE seal_id = %s ORDER BY ord",
            (s.seal_id,),
        ).fetchall()
        name = f"evidence_seals #{s.seal_id} ({table.name} {s.range_from}..{s.range_to})"
        if len(leaves) != s.n_leaves or merkle_root([h for _, h in leaves]) != s.root:
            out.add("seals", name, "stored leaves do not give the sealed Merkle root")
        sealed: dict[str, str] = {str(k): str(h) for k, h in leaves}
        seen: set[str] = set()
        for row in read_rows(conn, table, s.range_from, s.range_to):
            key = record_key(table, row)
            seen.add(key)
            out.count(check)
            want = sealed.get(key)
            if want is None:
                out.add(check, key, f"added after its period was sealed (seal #{s.seal_id})")
            elif row_hash(row) != want:
                out.add(check, key, f"changed since it was sealed (seal #{s.seal_id}); now {_brief(row)}")
        for key in sealed.keys() - seen:
            out.add(check, key, f"deleted after it was sealed (seal #{s.seal_id})")
    if not table_seals:
        return
    through = max(s.range_to for s in table_seals)
    where, args = _window(f"t.{table.time_column}", from_ms, to_ms)
    cur = conn.execute(
        f"SELECT {table.select()} FROM {table.name} t WHERE t.{table.time_column} < {_EPOCH}{where}"
        " AND NOT EXISTS (SELECT 1 FROM evidence_seals s WHERE s.kind = %s"
        f" AND t.{table.time_column} >= 'epoch'::timestamptz + s.range_from * INTERVAL '1 millisecond'"
        f" AND t.{table.time_column} < 'epoch'::timestamptz + s.range_to * INTERVAL '1 millisecond')",
        [through, *args, table.name],
    )
    names = [d.name for d in cur.description or []]
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        out.add(check, record_key(table, row), "in a sealed time range but in no seal (added later)")


def _brief(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, default=str)[:200]


def _check_factors(conn: Conn, out: Verification) -> None:
    recorded: dict[str, str] = {}
    for subject, body in conn.execute(
        "SELECT subject, body FROM evidence_events WHERE kind = 'factor_version' ORDER BY event_id"
    ).fetchall():
        recorded[subject] = json.loads(body).get("row_hash", "")
    rows = conn.execute(
        'SELECT factor_id, version, kind, subject, valid_from, valid_to, "values", units, attrs,'
        " provenance, row_hash FROM factor_versions ORDER BY factor_id, version"
    ).fetchall()
    for r in rows:
        v = FactorVersion(*r)
        name = f"factor_versions {v.factor_id} version {v.version}"
        out.count("factor versions")
        h = content_hash(v.content())
        if h != v.row_hash:
            out.add("factor versions", name, f"row changed since it was recorded; now {v.values}")
        elif recorded.get(f"{v.factor_id}@{v.version}") != v.row_hash:
            out.add("factor versions", name, "its recorded hash is not in the evidence events")


def _check_events(conn: Conn, out: Verification) -> None:
    prev = GENESIS
    for eid, kind, subject, actor, at_ms, reason, body, p, h in conn.execute(
        "SELECT event_id, kind, subject, actor, (extract(epoch FROM at_ts) * 1000)::bigint,"
        " reason, body, prev_hash, event_hash FROM evidence_events ORDER BY event_id"
    ).fetchall():
        name = f"evidence_events #{eid} ({kind} {subject})"
        out.count("events")
        try:
            parsed = json.loads(body)
        except ValueError:
            out.add("events", name, "body is not JSON")
            prev = h
            continue
        if p != prev:
            out.add("events", name, "does not link to the previous event (one was removed or changed)")
        if canonical(parsed).decode("utf-8") != body or event_hash_of(
            p, kind, subject, actor, int(at_ms), reason, parsed
        ) != h:
            out.add("events", name, "event changed since it was recorded")
        prev = h


def _check_snapshots(conn: Conn, out: Verification) -> None:
    for ent, year, rev, body, bh in conn.execute(
        "SELECT enterprise, year, revision, body, body_hash FROM report_snapshots"
        " ORDER BY enterprise, year, revision"
    ).fetchall():
        out.count("report snapshots")
        name = f"report_snapshots {ent} {year} revision {rev}"
        if sha256_hex(body.encode("utf-8")) != bh:
            out.add("report snapshots", name, "report body changed since it was frozen")
            continue
        ev = conn.execute(
            "SELECT body FROM evidence_events WHERE kind = 'report_snapshot' AND subject = %s",
            (f"{ent}/{year}/{rev}",),
        ).fetchone()
        if ev is None or json.loads(ev[0]).get("body_hash") != bh:
            out.add("report snapshots", name, "its hash is not the one recorded when it was frozen")
