"""The delivery worker: consumes ``nt.alerts.v1`` in its own consumer group and sends each
alert to the matching subscriptions, once per (subscription, alert, state).

Order per poll: for every record, every matching subscription is claimed in the ledger, sent
(retried with exponential backoff), and its outcome recorded — all in autocommit, so each
ledger write is durable at once; only then are the Kafka offsets committed. A crash anywhere
re-delivers records whose ledger rows say ``sent``/``failed`` (skipped) or ``pending``
(sent again): nothing lost, nothing sent twice except a send cut off mid-flight, which carries
the same delivery key so a receiver can recognise it.

Each subscription fails alone: any exception of a send (a bad target stored before the checks
existed, a library error) fails that delivery, never the worker. A subscription that keeps
failing is marked ``failing`` (``health``) and tried once per back-off period; its deliveries
meanwhile are ``deferred`` and sent by ``sweep`` once it may be tried again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from console.data.alerts import enterprise_of_scope
from console.delivery import health, ledger
from console.delivery.channels import SendError, Senders, category_of
from console.delivery.match import Subscription, matches
from console.delivery.policy import load_policy
from console.settings import ConsoleSettings
from ingest.contract import TOPIC_ALERTS, Alert

log = logging.getLogger(__name__)
Conn = psycopg.Connection[tuple[Any, ...]]


@dataclass(slots=True)
class Counts:
    records: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    rejected: int = 0
    deferred: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def load_subscriptions(conn: Conn) -> list[Subscription]:
    rows = conn.execute(
        "SELECT id, enterprise, stack, severities, rule_id, metric, channel, target, secret"
        " FROM console_subscriptions WHERE deleted_at IS NULL ORDER BY id"
    ).fetchall()
    return [
        Subscription(
            int(r[0]), r[1], r[2], tuple(r[3]) if r[3] else None, r[4], r[5], r[6], r[7], r[8]
        )
        for r in rows
    ]


def backoff_s(settings: ConsoleSettings, attempt: int) -> float:
    """Delay before retry number ``attempt`` (1-based): initial × 2^(attempt−1), capped."""
    return float(min(settings.backoff_initial_s * 2 ** (attempt - 1), settings.backoff_max_s))


def send_with_retry(
    conn: Conn,
    senders: Senders,
    sub: Subscription,
    alert: dict[str, Any],
    enterprise: str | None,
    settings: ConsoleSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Send one claimed delivery, recording every attempt; returns ``sent``, ``failed`` or
    ``deferred``. A failing subscription gets one attempt when its wait is over (none before);
    a healthy one up to ``webhook_attempts``."""
    may, failing = health.may_attempt(conn, sub.id)
    if not may:
        ledger.defer(conn, sub.id, alert, enterprise)
        return "deferred"
    attempts = 1 if failing else settings.webhook_attempts
    key = f"{sub.id}:{alert['alert_id']}:{alert['state']}"
    for attempt in range(1, attempts + 1):
        try:
            senders.send(sub, alert, enterprise, key)
        except Exception as exc:  # any failure is this subscription's alone
            retry = exc.retry if isinstance(exc, SendError) else False
            category = category_of(exc) or "delivery error"
            final = attempt == attempts or not retry
            ledger.record(
                conn,
                sub.id,
                alert["alert_id"],
                alert["state"],
                "failed" if final else "pending",
                attempt,
                category,
            )
            if isinstance(exc, SendError):
                log.warning("delivery %s attempt %d failed: %s", key, attempt, exc)
            else:
                log.exception("delivery %s attempt %d failed: %s", key, attempt, category)
            if final:
                health.failed(conn, sub.id, category, settings)
                return "failed"
            sleep(backoff_s(settings, attempt))
            continue
        ledger.record(conn, sub.id, alert["alert_id"], alert["state"], "sent", attempt, None)
        health.succeeded(conn, sub.id)
        return "sent"
    return "failed"


def _count(counts: Counts, outcome: str) -> None:
    if outcome == "sent":
        counts.sent += 1
    elif outcome == "deferred":
        counts.deferred += 1
    else:
        counts.failed += 1


def deliver(
    conn: Conn,
    senders: Senders,
    values: list[bytes | None],
    settings: ConsoleSettings,
    counts: Counts,
) -> None:
    """Deliver one poll's alert records (the offsets are committed by the caller afterwards)."""
    subs = load_subscriptions(conn)
    senders.policy = load_policy(conn, settings.kafka_alerts_topic)
    for value in values:
        counts.records += 1
        try:
            alert = Alert.model_validate(json.loads(value or b"")).model_dump()
        except ValueError as exc:
            counts.rejected += 1
            log.warning("nt.alerts.v1: unreadable record skipped: %s", str(exc)[:200])
            continue
        enterprise = enterprise_of_scope(conn, alert["scope"])
        for sub in subs:
            if not matches(sub, alert, enterprise):
                continue
            if not ledger.claim(conn, sub.id, alert["alert_id"], alert["state"]):
                counts.skipped += 1
                continue
            _count(counts, send_with_retry(conn, senders, sub, alert, enterprise, settings))


def sweep(
    conn: Conn, senders: Senders, settings: ConsoleSettings, counts: Counts, limit: int = 100
) -> int:
    """Send deferred deliveries whose subscription may be tried again; returns how many were
    taken up (a subscription that fails again defers the rest for another back-off)."""
    rows = ledger.deferred(conn, limit)
    if not rows:
        return 0
    subs = {s.id: s for s in load_subscriptions(conn)}
    senders.policy = load_policy(conn, settings.kafka_alerts_topic)
    for sub_id, alert, enterprise in rows:
        sub = subs.get(sub_id)
        if sub is None:
            continue
        if not health.may_attempt(conn, sub_id)[0]:
            continue  # failed again earlier in this sweep
        _count(counts, send_with_retry(conn, senders, sub, alert, enterprise, settings))
    return len(rows)


def park_id(conn: Conn) -> str:
    row = conn.execute("SELECT id FROM console_parks LIMIT 1").fetchone()
    return "park" if row is None else str(row[0])


def run_delivery(
    bootstrap: str,
    dsn: str,
    mqtt_host_port: tuple[str, int],
    settings: ConsoleSettings,
    stop: threading.Event,
    idle_exit_s: float | None = None,
) -> Counts:
    """Consume and deliver until ``stop`` is set (or ``idle_exit_s`` without records)."""
    from kafka import KafkaConsumer  # type: ignore[import-untyped]

    consumer = KafkaConsumer(
        TOPIC_ALERTS,
        bootstrap_servers=bootstrap,
        group_id=settings.delivery_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="nengtan-console-delivery",
    )
    counts = Counts()
    idle_since = time.monotonic()
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            senders = Senders(settings, bootstrap, mqtt_host_port, park_id(conn))
            try:
                while not stop.is_set():
                    polled = consumer.poll(timeout_ms=500, max_records=500)
                    values = [rec.value for recs in polled.values() for rec in recs]
                    swept = sweep(conn, senders, settings, counts)
                    if not values:
                        if swept:
                            idle_since = time.monotonic()
                        elif (
                            idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s
                        ):
                            break
                        continue
                    idle_since = time.monotonic()
                    deliver(conn, senders, values, settings, counts)
                    consumer.commit()
                    log.info(
                        "delivered: %d sent, %d failed, %d deferred, %d already done",
                        counts.sent,
                        counts.failed,
                        counts.deferred,
                        counts.skipped,
                    )
            finally:
                senders.close()
    finally:
        consumer.close(autocommit=False)
    return counts
