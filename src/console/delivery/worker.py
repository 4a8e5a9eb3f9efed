"""The delivery worker: consumes ``nt.alerts.v1`` in its own consumer group and sends each
alert to the matching subscriptions, once per (subscription, alert, state).

Order per poll: for every record, every matching subscription is claimed in the ledger, sent
(retried with exponential backoff), and its outcome recorded — all in autocommit, so each
ledger write is durable at once; only then are the Kafka offsets committed. A crash anywhere
re-delivers records whose ledger rows say ``sent``/``failed`` (skipped) or ``pending``
(sent again): nothing lost, nothing sent twice except a send cut off mid-flight, which carries
the same delivery key so a receiver can recognise it.
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
from console.delivery import ledger
from console.delivery.channels import SendError, Senders
from console.delivery.match import Subscription, matches
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
    """Send one delivery, recording every attempt; returns ``sent`` or ``failed``."""
    key = f"{sub.id}:{alert['alert_id']}:{alert['state']}"
    for attempt in range(1, settings.webhook_attempts + 1):
        try:
            senders.send(sub, alert, enterprise, key)
        except SendError as exc:
            final = attempt == settings.webhook_attempts or not exc.retry
            ledger.record(
                conn,
                sub.id,
                alert["alert_id"],
                alert["state"],
                "failed" if final else "pending",
                attempt,
                str(exc),
            )
            log.warning("delivery %s attempt %d failed: %s", key, attempt, exc)
            if final:
                return "failed"
            sleep(backoff_s(settings, attempt))
            continue
        ledger.record(conn, sub.id, alert["alert_id"], alert["state"], "sent", attempt, None)
        return "sent"
    return "failed"


def deliver(
    conn: Conn,
    senders: Senders,
    values: list[bytes | None],
    settings: ConsoleSettings,
    counts: Counts,
) -> None:
    """Deliver one poll's alert records (the offsets are committed by the caller afterwards)."""
    subs = load_subscriptions(conn)
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
            outcome = send_with_retry(conn, senders, sub, alert, enterprise, settings)
            if outcome == "sent":
                counts.sent += 1
            else:
                counts.failed += 1


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
                    if not values:
                        if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                            break
                        continue
                    idle_since = time.monotonic()
                    deliver(conn, senders, values, settings, counts)
                    consumer.commit()
                    log.info(
                        "delivered: %d sent, %d failed, %d already done",
                        counts.sent,
                        counts.failed,
                        counts.skipped,
                    )
            finally:
                senders.close()
    finally:
        consumer.close(autocommit=False)
    return counts
