"""The idempotent sink: output topics (and raw readings) to PostgreSQL in batches.

Each poll's records are written in one transaction together with the next Kafka offset of
every partition they came from (``sink_offsets``); only after that transaction commits are the
Kafka offsets committed. Records below the stored offsets are skipped (and the consumer seeks
to them when it is assigned a partition), so a replay after a crash between the two commits
writes nothing twice. Raw readings are binary COPY'd straight into ``readings_raw``; the
streams' outputs, which are re-emitted under the same natural key, are COPY'd into staging
tables and upserted, the latest record of a key in a batch winning.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import psycopg
from psycopg import errors

from ingest.contract import DLQ_MAX_MESSAGE_BYTES, TOPIC_DLQ
from nengtan.errors import ConfigError
from store.tables import TARGETS, Row, Target

log = logging.getLogger(__name__)

_STAGE_TYPES = {
    "value": "double precision",
    "quantity": "double precision",
    "kgce": "double precision",
    "co2e_t": "double precision",
    "co2_t": "double precision",
    "threshold": "double precision",
    "n_valid": "smallint",
    "valid": "boolean",
    "seq": "bigint",
    "gases": "jsonb",
    "pollutant_kg": "jsonb",
    "pollutant_avg_mg_m3": "jsonb",
}
_BINARY_TYPES = {
    "text": "text",
    "double precision": "float8",
    "bigint": "int8",
    "smallint": "int2",
    "boolean": "bool",
}
PG_EPOCH_MS = 946_684_800_000
"""2000-01-01T00:00:00Z in Unix ms: PostgreSQL's binary timestamptz counts microseconds from it."""


def _stage_type(target: Target, col: str) -> str:
    if col.endswith("_ms"):
        return "bigint"
    if target.table == "emissions" and col == "scope":
        return "smallint"
    return _STAGE_TYPES.get(col, "text")


def _binary_types(target: Target) -> list[str]:
    """Binary COPY types of a direct target's columns; ``*_ms`` columns are sent as the int8
    that the binary timestamptz is (microseconds since 2000), computed exactly in Python."""
    out = []
    for c in target.columns:
        if c.endswith("_ms"):
            out.append("int8")
            continue
        t = _BINARY_TYPES.get(_stage_type(target, c))
        if t is None:
            raise ConfigError(f"sink target {target.table}: column {c} cannot be COPY'd directly")
        out.append(t)
    return out


class Record(NamedTuple):
    """One consumed Kafka record, as the writer needs it."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    timestamp_ms: int


def _as_record(r: Record | tuple[str, bytes | None, int]) -> Record:
    if isinstance(r, Record):
        return r
    topic, value, timestamp_ms = r
    return Record(topic, -1, -1, value, timestamp_ms)


@dataclass(slots=True)
class BatchCounts:
    """Rows written per table in one write (what the sink reports)."""

    rows: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    skipped: int = 0
    """records below the offsets stored in the database (a replay): not written again"""
    fallbacks: int = 0
    """direct COPYs that met a key already present (a duplicate input) and were staged instead"""


class Writer:
    """Writes grouped records and their offsets to the database in one transaction per call.

    ``direct=False`` writes every table through the staged upsert (the write path before the
    direct COPY), for comparisons and the bench.
    """

    def __init__(
        self,
        conn: psycopg.Connection[tuple[Any, ...]],
        group_id: str = "nengtan-sink",
        *,
        direct: bool = True,
    ) -> None:
        self.conn = conn
        self.group_id = group_id
        self.direct = direct
        self._staged: set[str] = set()

    def _stage(self, target: Target) -> str:
        name = f"stage_{target.table}"
        if name not in self._staged:
            cols = ", ".join(f'"{c}" {_stage_type(target, c)}' for c in target.columns)
            self.conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {name} (ord bigint, {cols}) ON COMMIT DELETE ROWS"
            )
            self._staged.add(name)
        return name

    def stored_offsets(self, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The next offset the database expects per ``(topic, partition)`` (absent: none)."""
        parts = list(partitions)
        if not parts:
            return {}
        rows = self.conn.execute(
            "SELECT o.topic, o.partition, o.next_offset FROM sink_offsets o"
            " JOIN unnest(%s::text[], %s::int[]) AS p(topic, partition) USING (topic, partition)"
            " WHERE o.group_id = %s",
            ([t for t, _ in parts], [p for _, p in parts], self.group_id),
        ).fetchall()
        return {(t, p): o for t, p, o in rows}

    def _lock_offsets(self, parts: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """Create and lock the partitions' offset rows; a second sink writing the same
        partition (during a rebalance) waits here and then sees this batch's offsets."""
        topics, partitions = [t for t, _ in parts], [p for _, p in parts]
        self.conn.execute(
            "INSERT INTO sink_offsets (group_id, topic, partition, next_offset)"
            " SELECT %s, t, p, 0 FROM unnest(%s::text[], %s::int[]) AS x(t, p)"
            " ON CONFLICT DO NOTHING",
            (self.group_id, topics, partitions),
        )
        rows = self.conn.execute(
            "SELECT o.topic, o.partition, o.next_offset FROM sink_offsets o"
            " JOIN unnest(%s::text[], %s::int[]) AS p(topic, partition) USING (topic, partition)"
            " WHERE o.group_id = %s FOR UPDATE OF o",
            (topics, partitions, self.group_id),
        ).fetchall()
        return {(t, p): o for t, p, o in rows}

    def write(self, records: Iterable[Record | tuple[str, bytes | None, int]]) -> BatchCounts:
        """Write ``records`` not yet in the database and advance the stored offsets, in one
        transaction; unreadable records go to ``dlq`` stamped with their Kafka timestamp.

        A plain ``(topic, value, timestamp_ms)`` tuple is a record that was not consumed from
        Kafka (a test's, a tool's): it is written without offset tracking.
        """
        batch = [_as_record(r) for r in records]
        counts = BatchCounts()
        with self.conn.transaction():
            nxt: dict[tuple[str, int], int] = {}
            for r in batch:
                if r.partition >= 0:
                    key = (r.topic, r.partition)
                    nxt[key] = max(nxt.get(key, 0), r.offset + 1)
            if not batch:
                return counts
            stored = self._lock_offsets(list(nxt)) if nxt else {}
            grouped: dict[str, list[Row]] = {}
            for r in batch:
                if r.partition >= 0 and r.offset < stored[(r.topic, r.partition)]:
                    counts.skipped += 1
                    continue
                self._rows(r, grouped, counts)
            for topic, rows in grouped.items():
                target = TARGETS[topic]
                if self.direct and target.direct:
                    self._copy_or_stage(target, rows, counts)
                else:
                    self._upsert(target, rows)
                counts.rows[target.table] = counts.rows.get(target.table, 0) + len(rows)
            if not nxt:
                return counts
            self.conn.execute(
                "UPDATE sink_offsets o SET next_offset = greatest(o.next_offset, x.n)"
                " FROM unnest(%s::text[], %s::int[], %s::bigint[]) AS x(t, p, n)"
                " WHERE o.group_id = %s AND o.topic = x.t AND o.partition = x.p",
                (
                    [t for t, _ in nxt],
                    [p for _, p in nxt],
                    list(nxt.values()),
                    self.group_id,
                ),
            )
        return counts

    @staticmethod
    def _rows(r: Record, grouped: dict[str, list[Row]], counts: BatchCounts) -> None:
        target = TARGETS.get(r.topic)
        try:
            if target is None:
                raise ValueError(f"no table for topic {r.topic!r}")
            obj = orjson.loads(r.value or b"")
            if not isinstance(obj, dict):
                raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
            rows = list(target.rows(obj))  # all of the record's rows or none
        except (ValueError, KeyError, TypeError) as exc:
            counts.rejected += 1
            dead = _dead_letter(r.timestamp_ms, r.topic, exc, r.value or b"")
            grouped.setdefault(TOPIC_DLQ, []).extend(TARGETS[TOPIC_DLQ].rows(dead))
            return
        grouped.setdefault(r.topic, []).extend(rows)

    def _copy_or_stage(self, target: Target, rows: list[Row], counts: BatchCounts) -> None:
        """Binary COPY straight into the table; a key already present (a duplicate input:
        replays are skipped by offset) rolls back to the savepoint and stages the rows."""
        try:
            with self.conn.transaction():
                self._copy(target, rows)
        except errors.UniqueViolation:
            counts.fallbacks += 1
            self._upsert(target, rows)

    def _copy(self, target: Target, rows: list[Row]) -> None:
        cols = ", ".join(f'"{c}"' for c in target.table_columns)
        ms = [i for i, c in enumerate(target.columns) if c.endswith("_ms")]
        sql = f"COPY {target.table} ({cols}) FROM STDIN (FORMAT BINARY)"
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            copy.set_types(_binary_types(target))
            for row in rows:
                out = list(row)
                for i in ms:
                    out[i] = (out[i] - PG_EPOCH_MS) * 1000
                copy.write_row(out)

    def _upsert(self, target: Target, rows: list[Row]) -> None:
        stage = self._stage(target)
        cols = ", ".join(f'"{c}"' for c in target.columns)
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {stage} (ord, {cols}) FROM STDIN") as copy:
                for i, row in enumerate(rows):
                    copy.write_row((i, *row))
            key = ", ".join(target.key)
            table_cols = ", ".join(f'"{c}"' for c in target.table_columns)
            staged = (
                f"SELECT DISTINCT ON ({key}) * FROM (SELECT ord, {target.select_list()} "
                f"FROM {stage}) s ORDER BY {key}, ord DESC"
            )
            if target.replace:
                others = [c for c in target.table_columns if c not in target.key]
                sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in others)
                differs = " OR ".join(f't."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in others)
                conflict = f"DO UPDATE SET {sets} WHERE {differs}"
            else:
                conflict = "DO NOTHING"
            cur.execute(
                f"INSERT INTO {target.table} AS t ({table_cols}) "
                f"SELECT {table_cols} FROM ({staged}) d ON CONFLICT ({key}) {conflict}"
            )


def _dead_letter(now_ms: int, topic: str, exc: Exception, value: bytes) -> dict[str, Any]:
    import base64

    return {
        "received_ms": now_ms,
        "source": f"sink:{topic}",
        "reason": f"record on {topic} could not be stored: {exc}",
        "payload_b64": base64.b64encode(value).decode("ascii"),
    }


SINK_TOPICS: tuple[str, ...] = tuple(TARGETS)
REPORT_EVERY_S = 10.0


@dataclass(slots=True)
class SinkTotals:
    """What a sink run wrote (returned by :func:`run_sink`, logged as it goes)."""

    rows: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    skipped: int = 0
    fallbacks: int = 0

    def add(self, counts: BatchCounts) -> None:
        for table, n in counts.rows.items():
            self.rows[table] = self.rows.get(table, 0) + n
        self.rejected += counts.rejected
        self.skipped += counts.skipped
        self.fallbacks += counts.fallbacks


class Sink:
    """A Kafka consumer and a :class:`Writer`: :meth:`poll_write` writes one poll's records
    (database commit), :meth:`commit` then commits their Kafka offsets. Split so that a test
    can stop between the two, as a crash would."""

    def __init__(
        self,
        bootstrap: str,
        conn: psycopg.Connection[tuple[Any, ...]],
        *,
        group_id: str = "nengtan-sink",
        topics: tuple[str, ...] = SINK_TOPICS,
        max_records: int = 5000,
    ) -> None:
        from kafka import KafkaConsumer  # type: ignore[import-untyped]

        self.writer = Writer(conn, group_id)
        self.max_records = max_records
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
            # a DLQ record carries its rejected input whole (up to 16 MiB)
            max_partition_fetch_bytes=DLQ_MAX_MESSAGE_BYTES,
            client_id="nengtan-sink",
        )
        self.consumer.subscribe(list(topics), listener=self._listener())

    def _listener(self) -> Any:
        from kafka import ConsumerRebalanceListener

        sink = self

        class SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
            """Start each assigned partition at the offset stored in the database (ahead of
            Kafka's after a crash between the two commits; the writer skips below it anyway)."""

            def on_partitions_revoked(self, revoked: Any) -> None:
                pass

            def on_partitions_assigned(self, assigned: Any) -> None:
                stored = sink.writer.stored_offsets((tp.topic, tp.partition) for tp in assigned)
                for tp in assigned:
                    offset = stored.get((tp.topic, tp.partition))
                    if offset is not None:
                        sink.consumer.seek(tp, offset)
                if stored:
                    log.info("resuming %d partition(s) at the stored offsets", len(stored))

        return SeekToStored()

    def poll_write(self, timeout_ms: int = 500) -> BatchCounts | None:
        """Poll once and write what came (None: nothing came)."""
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.max_records)
        records = [
            Record(tp.topic, tp.partition, rec.offset, rec.value, rec.timestamp)
            for tp, recs in polled.items()
            for rec in recs
        ]
        return self.writer.write(records) if records else None

    def commit(self) -> None:
        self.consumer.commit()

    def close(self) -> None:
        self.consumer.close(autocommit=False)


def run_sink(
    bootstrap: str,
    dsn: str,
    *,
    group_id: str = "nengtan-sink",
    topics: tuple[str, ...] = SINK_TOPICS,
    max_records: int = 5000,
    idle_exit_s: float | None = None,
) -> SinkTotals:
    """Consume ``topics`` until SIGTERM/SIGINT (or ``idle_exit_s`` without records)."""
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    idle_since = reported = time.monotonic()
    totals = SinkTotals()
    with psycopg.connect(dsn, autocommit=True) as conn:
        sink = Sink(bootstrap, conn, group_id=group_id, topics=topics, max_records=max_records)
        try:
            while not stopping:
                counts = sink.poll_write()
                if counts is None:
                    if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                        break
                    continue
                idle_since = time.monotonic()
                sink.commit()
                totals.add(counts)
                if time.monotonic() - reported > REPORT_EVERY_S:
                    log.info("stored so far %s", totals)
                    reported = time.monotonic()
        finally:
            sink.close()
            log.info("stored %s; stopped", totals)
    return totals
