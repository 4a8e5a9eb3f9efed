"""The idempotent sink: output topics (and raw readings) to PostgreSQL in batches.

Each poll's records are grouped by topic, COPY'd into temporary staging tables and upserted on
their natural keys in one transaction; only after that transaction commits are the Kafka
offsets committed. A crash between the two re-delivers records the database already has, and
the upsert leaves them as they are, so a replay changes nothing. Within one batch the latest
record of a key wins (the stream re-emits corrections after the first value).
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ingest.contract import DLQ_MAX_MESSAGE_BYTES, TOPIC_DLQ
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


def _stage_type(target: Target, col: str) -> str:
    if col.endswith("_ms"):
        return "bigint"
    if target.table == "emissions" and col == "scope":
        return "smallint"
    return _STAGE_TYPES.get(col, "text")


@dataclass(slots=True)
class BatchCounts:
    """Rows staged per table in one write (what the sink reports)."""

    rows: dict[str, int] = field(default_factory=dict)
    rejected: int = 0


class Writer:
    """Writes grouped records to the database in one transaction per call."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        self.conn = conn
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

    def write(self, records: Iterable[tuple[str, bytes | None, int]]) -> BatchCounts:
        """Stage and upsert ``(topic, value, kafka_timestamp_ms)`` records; unreadable ones go
        to ``dlq`` stamped with their Kafka timestamp (so a replay stores them once)."""
        grouped: dict[str, list[Row]] = {}
        counts = BatchCounts()
        for topic, value, timestamp_ms in records:
            target = TARGETS.get(topic)
            try:
                if target is None:
                    raise ValueError(f"no table for topic {topic!r}")
                obj = json.loads(value or b"")
                grouped.setdefault(topic, []).extend(target.rows(obj))
            except (ValueError, KeyError, TypeError) as exc:
                counts.rejected += 1
                grouped.setdefault(TOPIC_DLQ, []).extend(
                    TARGETS[TOPIC_DLQ].rows(_dead_letter(timestamp_ms, topic, exc, value or b""))
                )
        with self.conn.transaction():
            for topic, rows in grouped.items():
                target = TARGETS[topic]
                self._upsert(target, rows)
                counts.rows[target.table] = counts.rows.get(target.table, 0) + len(rows)
        return counts

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


def run_sink(
    bootstrap: str,
    dsn: str,
    *,
    group_id: str = "nengtan-sink",
    topics: tuple[str, ...] = SINK_TOPICS,
    max_records: int = 5000,
    idle_exit_s: float | None = None,
) -> None:
    """Consume ``topics`` until SIGTERM/SIGINT (or ``idle_exit_s`` without records)."""
    from kafka import KafkaConsumer  # type: ignore[import-untyped]

    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_records,
        # a DLQ record carries its rejected input whole (up to 16 MiB)
        max_partition_fetch_bytes=DLQ_MAX_MESSAGE_BYTES,
        client_id="nengtan-sink",
    )
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    idle_since = reported = time.monotonic()
    stored: dict[str, int] = {}
    rejected = 0
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            writer = Writer(conn)
            while not stopping:
                polled = consumer.poll(timeout_ms=500, max_records=max_records)
                records = [
                    (tp.topic, rec.value, rec.timestamp)
                    for tp, recs in polled.items()
                    for rec in recs
                ]
                if not records:
                    if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                        break
                    continue
                idle_since = time.monotonic()
                counts = writer.write(records)
                consumer.commit()
                for table, n in counts.rows.items():
                    stored[table] = stored.get(table, 0) + n
                rejected += counts.rejected
                if time.monotonic() - reported > REPORT_EVERY_S:
                    log.info("stored so far %s (rejected %d)", stored, rejected)
                    reported = time.monotonic()
    finally:
        consumer.close(autocommit=False)
        log.info("stored %s (rejected %d); stopped", stored, rejected)
