"""The raw limits of the machine, measured in the same run as the pipeline: PostgreSQL COPY
into the pipeline's own tables, and Kafka produce/consume of messages the size of the
pipeline's reading batches (kcat, librdkafka: the broker's speed, not a Python client's).

These are the ceilings the end-to-end figure is divided by; they share the same two cores
with nothing else running while they are measured.
"""

from __future__ import annotations

import io
import subprocess
import time
from dataclasses import dataclass

import psycopg

from nengtan.errors import ServiceError


@dataclass(frozen=True)
class Rate:
    """``count`` items in ``seconds``."""

    count: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


def copy_consumption(dsn: str, rows: int, point_count: int = 20_000) -> Rate:
    """COPY ``rows`` minute records straight into ``consumption`` (text COPY into the table
    itself: as fast as PostgreSQL takes that table's rows and indexes)."""
    start_ms = 1_767_225_600_000
    buf = io.StringIO()
    for i in range(rows):
        p, k = i % point_count, i // point_count
        t0 = start_ms + k * 60_000
        buf.write(f"bench.p{p}\tbench\telectricity\t{_iso(t0)}\t{_iso(t0 + 60_000)}"
                  f"\t{i * 0.01}\tkWh\t{i * 0.001}\n")  # fmt: skip
    data = buf.getvalue().encode()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM consumption WHERE enterprise = 'bench'")
        began = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(
            "COPY consumption (point, enterprise, carrier, start_ts, end_ts, quantity, uom, kgce)"
            " FROM STDIN"
        ) as copy:
            copy.write(data)
        seconds = time.perf_counter() - began
        conn.execute("DELETE FROM consumption WHERE enterprise = 'bench'")
    return Rate(rows, seconds)


def copy_readings_direct(dsn: str, rows: int, point_count: int = 20_000) -> Rate:
    """COPY ``rows`` readings straight into ``readings_raw`` (no staging table): the table's
    own ingest ceiling."""
    start_ms = 1_767_225_600_000
    buf = io.StringIO()
    for i in range(rows):
        p, k = i % point_count, i // point_count
        ts = _iso(start_ms + k * 1000)
        buf.write(f"bench.p{p}\t{ts}\t{i * 0.5}\tgood\tbench-gw\t{k}\t{ts}\n")
    data = buf.getvalue().encode()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM readings_raw WHERE device = 'bench-gw'")
        began = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(
            "COPY readings_raw (point, ts, value, q, device, seq, sent_ts) FROM STDIN"
        ) as copy:
            copy.write(data)
        seconds = time.perf_counter() - began
        conn.execute("DELETE FROM readings_raw WHERE device = 'bench-gw'")
    return Rate(rows, seconds)


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def kafka_produce_consume(bootstrap: str, topic: str, messages: int, size: int) -> tuple[Rate, Rate]:
    """kcat: produce ``messages`` of ``size`` bytes (acks=all, as the adapters), then consume
    them from the beginning. The topic is created by the broker on first use."""
    payload = (b"x" * (size - 1)) + b"\n"
    data = payload * messages
    began = time.perf_counter()
    prod = subprocess.run(
        ["kcat", "-b", bootstrap, "-P", "-t", topic, "-X", "acks=all", "-X", "linger.ms=5",
         "-X", "message.max.bytes=2000000"],
        input=data, capture_output=True, timeout=600,
    )  # fmt: skip
    produced = time.perf_counter() - began
    if prod.returncode != 0:
        raise ServiceError(f"kcat produce failed: {prod.stderr.decode(errors='replace')[-500:]}")
    began = time.perf_counter()
    cons = subprocess.run(
        ["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
         "-f", "%S\\n"],
        capture_output=True, timeout=600,
    )  # fmt: skip
    consumed = time.perf_counter() - began
    if cons.returncode != 0:
        raise ServiceError(f"kcat consume failed: {cons.stderr.decode(errors='replace')[-500:]}")
    got = len(cons.stdout.splitlines())
    return Rate(messages, produced), Rate(got, consumed)
