"""``nengtan evidence seal``: the ledger's own Kafka consumer and the roots' publisher.

It reads ``nt.readings.v1`` with manually assigned partitions, starting from the ledger's own
position (next offset per partition in the database), so a batch is stored exactly once however
often the process is killed; the consumer group ``nengtan-evidence`` is committed afterwards
only to show lag in the usual tools. It seals complete blocks as they fill, incomplete ones
after an idle period, the stored records' closed periods, and publishes every new seal on
``nt.evidence.roots.v1`` (marked published once Kafka acknowledged it).
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from evidence.hashing import canonical
from evidence.ledger import DEFAULT_BLOCK, Ledger, RawRecord
from evidence.records import HOUR_MS, seal_records
from evidence.seals import TOPIC_ROOTS, mark_published, unpublished
from ingest.contract import TOPIC_READINGS
from nengtan.errors import ServiceError

log = logging.getLogger(__name__)
GROUP_ID = "nengtan-evidence"


@dataclass(frozen=True, slots=True)
class SealOptions:
    block: int = DEFAULT_BLOCK
    flush_idle_s: float = 60.0
    records_grace_ms: int = HOUR_MS
    records_through_ms: int | None = None
    period_ms: int = HOUR_MS
    once: bool = False
    idle_exit_s: float | None = None


@dataclass(slots=True)
class SealStats:
    batches: int = 0
    seals: int = 0
    published: int = 0
    lost_to_retention: int = 0
    """Records deleted from the topic (retention) before the ledger stored them."""


def start_at(consumer: Any, tps: list[Any], nxt: dict[int, int], stats: SealStats) -> None:
    """Position each partition at the ledger's next offset.

    A partition the ledger has not seen yet starts at the topic's first record *still there*,
    not at offset 0: a seek below the log start would be reset by the client to the end and
    silently skip everything. When the ledger's next offset has already been deleted by
    retention, that gap is logged as an error and counted: those batches can no longer be
    hashed, and the operator has to know (raise the topic's retention above the sealer's
    downtime)."""
    first = consumer.beginning_offsets(tps)
    for tp in tps:
        want = nxt.get(tp.partition)
        if want is not None and want < first[tp]:
            log.error("evidence gap: %s partition %d offsets %d..%d were deleted by retention"
                      " before they were sealed", tp.topic, tp.partition, want, first[tp] - 1)  # fmt: skip
            stats.lost_to_retention += first[tp] - want
        consumer.seek(tp, first[tp] if want is None else max(want, first[tp]))


def publish_roots(conn: psycopg.Connection[tuple[Any, ...]], producer: Any, timeout_s: float = 30.0) -> int:
    """Send every unpublished seal to ``nt.evidence.roots.v1``; returns how many were acked."""
    todo = unpublished(conn)
    if not todo:
        return 0
    futures = [
        producer.send(TOPIC_ROOTS, key=s.kind.encode(), value=canonical(s.message(ms)))
        for s, ms in todo
    ]
    producer.flush(timeout=timeout_s)
    done = []
    for (s, _), fut in zip(todo, futures, strict=True):
        try:
            fut.get(timeout=timeout_s)
            done.append(s.seal_id)
        except Exception as exc:  # kafka-python raises its own KafkaError subclasses
            log.warning("seal %d not published yet: %s", s.seal_id, exc)
    mark_published(conn, done)
    return len(done)


def run_sealer(bootstrap: str, dsn: str, opts: SealOptions) -> SealStats:
    """Consume, chain, seal and publish until stopped (or caught up, with ``once``)."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # type: ignore[import-untyped]

    stats = SealStats()
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    if not opts.once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ServiceError(f"cannot connect to PostgreSQL: {exc}") from exc
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP_ID,
                             enable_auto_commit=False, client_id="nengtan-evidence")  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", client_id="nengtan-evidence")
    try:
        ledger = Ledger(conn, TOPIC_READINGS, opts.block)
        if not ledger.lock():
            raise ServiceError("another `nengtan evidence seal` holds the ledger lock")
        parts = consumer.partitions_for_topic(TOPIC_READINGS) or set()
        tps = [TopicPartition(TOPIC_READINGS, p) for p in sorted(parts)]
        consumer.assign(tps)
        start_at(consumer, tps, ledger.next_offsets(), stats)
        end = consumer.end_offsets(tps) if opts.once else {}
        last_data = time.monotonic()
        while not stopping:
            polled = consumer.poll(timeout_ms=500, max_records=5000)
            recs = [RawRecord(tp.partition, r.offset, r.key, r.value or b"")
                    for tp, rs in polled.items() for r in rs]  # fmt: skip
            if recs:
                stats.batches += ledger.append(recs)
                stats.seals += len(ledger.seal())
                consumer.commit()
                last_data = time.monotonic()
            caught_up = opts.once and all(consumer.position(tp) >= end[tp] for tp in tps)
            idle = time.monotonic() - last_data
            if caught_up or (not recs and idle >= opts.flush_idle_s):
                stats.seals += len(ledger.seal(flush=True))
            if caught_up or not recs:
                through = opts.records_through_ms or int(time.time() * 1000) - opts.records_grace_ms
                stats.seals += len(seal_records(conn, through, opts.period_ms))
                stats.published += publish_roots(conn, producer)
            if caught_up:
                break
            if opts.idle_exit_s is not None and not recs and idle > opts.idle_exit_s:
                break
            if not tps:
                parts = consumer.partitions_for_topic(TOPIC_READINGS) or set()
                if parts:
                    tps = [TopicPartition(TOPIC_READINGS, p) for p in sorted(parts)]
                    consumer.assign(tps)
        stats.published += publish_roots(conn, producer)
    finally:
        consumer.close(autocommit=False)
        producer.close(timeout=10)
        conn.close()
    return stats


def published_roots(bootstrap: str, timeout_s: float = 10.0) -> set[str]:
    """Every ``seal_hash`` published on ``nt.evidence.roots.v1`` (read from the beginning)."""
    import json

    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             client_id="nengtan-evidence-verify")  # fmt: skip
    try:
        parts = consumer.partitions_for_topic(TOPIC_ROOTS) or set()
        tps = [TopicPartition(TOPIC_ROOTS, p) for p in sorted(parts)]
        if not tps:
            return set()
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out: set[str] = set()
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise ServiceError(f"reading {TOPIC_ROOTS} took longer than {timeout_s:.0f} s")
            for recs in consumer.poll(timeout_ms=500).values():
                for r in recs:
                    try:
                        out.add(str(json.loads(r.value)["seal_hash"]))
                    except (ValueError, KeyError, TypeError):
                        continue
        return out
    finally:
        consumer.close(autocommit=False)
