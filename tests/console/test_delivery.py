"""Alert delivery against the real Kafka and Mosquitto: an alert on ``nt.alerts.v1`` reaches a
webhook (valid signature), an MQTT subscriber (``mosquitto_sub``), a Kafka topic and an SMTP
server exactly once per event; a failing webhook is retried and its failure recorded; a
restarted worker re-reading the topic sends nothing again; a delivery left ``pending`` by a
crash is sent once more."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from consolekit import ConsoleEnv
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from receivers import smtp_receiver, webhook_receiver

from console.auth import Scope
from console.data import subscriptions
from console.delivery.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from console.delivery.worker import Counts, run_delivery
from console.settings import load_console_settings
from ingest.contract import TOPIC_ALERTS, dumps

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def alert(alert_id: str, state: str, ts_ms: int) -> dict[str, Any]:
    return {"alert_id": alert_id, "rule_id": "enterprise-co2e-1h", "state": state,
            "severity": "major", "scope": "enterprise:acme", "metric": "co2e_t",
            "value": 85.0 if state == "raised" else 40.0, "threshold": 50.0, "window": "1h",
            "ts": ts_ms}  # fmt: skip


def run_worker(env: ConsoleEnv, group: str, smtp_port: int) -> Counts:
    cs = load_console_settings(delivery_group=group, webhook_attempts=3, backoff_initial_s=0.05,
                               smtp_port=smtp_port, webhook_timeout_s=3)  # fmt: skip
    s = env.settings
    return run_delivery(s.bootstrap, s.dsn, s.mqtt_host_port, cs, threading.Event(),
                        idle_exit_s=4)  # fmt: skip


def topic_values(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=4000,
                             group_id=None)  # fmt: skip
    try:
        return [json.loads(m.value) for m in consumer]
    finally:
        consumer.close()


def test_delivery_exactly_once_per_channel(console_env: ConsoleEnv) -> None:
    env = console_env
    run = uuid.uuid4().hex[:10]
    alert_id = f"enterprise-co2e-1h:acme:{run}"
    out_topic = f"nt.alerts.out.test-{run}"
    admin = KafkaAdminClient(bootstrap_servers=env.settings.bootstrap)
    admin.create_topics([NewTopic(out_topic, num_partitions=1, replication_factor=1)])
    admin.close()
    host, port = env.settings.mqtt_host_port
    acme = Scope("enterprise", "acme", "acme")

    with webhook_receiver() as (url, hook), smtp_receiver() as (smtp_port, mail), \
            psycopg.connect(env.dsn, autocommit=True) as conn:  # fmt: skip
        good = subscriptions.create(conn, acme, {"channel": "webhook", "target": f"{url}/ok"}, "")
        bad = subscriptions.create(conn, acme, {"channel": "webhook", "target": f"{url}/fail"}, "")
        subscriptions.create(conn, acme, {"channel": "mqtt", "severities": ["major"]}, "")
        subscriptions.create(conn, acme, {"channel": "kafka", "target": out_topic}, "")
        subscriptions.create(conn, acme, {"channel": "email", "target": "ops@acme.example"}, "")
        # a subscription that must not match (another severity)
        subscriptions.create(conn, acme, {"channel": "webhook", "target": f"{url}/ok",
                                          "severities": ["warning"]}, "")  # fmt: skip

        sub = subprocess.Popen(
            ["mosquitto_sub", "-h", host, "-p", str(port), "-q", "1", "-v",
             "-t", "nt/v1/alerts/acme/#"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            time.sleep(1.0)  # subscribed before anything is published
            producer = KafkaProducer(bootstrap_servers=env.settings.bootstrap, acks="all")
            t = int(time.time() * 1000)
            for rec in (alert(alert_id, "raised", t), alert(alert_id, "cleared", t + 60_000)):
                producer.send(TOPIC_ALERTS, key=b"acme", value=dumps(rec)).get(timeout=15)
            producer.close()

            first = run_worker(env, f"console-test-{run}", smtp_port)
            # a restarted worker that re-reads the whole topic (a new group) sends nothing again
            second = run_worker(env, f"console-test-{run}-again", smtp_port)
            time.sleep(1.0)
        finally:
            sub.terminate()
            mqtt_lines, _ = sub.communicate(timeout=10)

        mine = [r for r in hook.requests if alert_id.encode() in r[2]]
        ok = [r for r in mine if r[0] == "/ok"]
        # exactly once per (subscription, alert, state): raised and cleared
        assert sorted(json.loads(r[2])["state"] for r in ok) == ["cleared", "raised"]
        for _, headers, body in ok:
            assert verify(good["secret"], int(headers[TIMESTAMP_HEADER]), body,
                          headers[SIGNATURE_HEADER])  # fmt: skip
            assert not verify(bad["secret"], int(headers[TIMESTAMP_HEADER]), body,
                              headers[SIGNATURE_HEADER])  # fmt: skip
        # the failing webhook: 3 attempts per event, then recorded as failed
        assert len([r for r in mine if r[0] == "/fail"]) == 6
        ledger = conn.execute(
            "SELECT status, attempts, last_error FROM console_deliveries"
            " WHERE subscription_id = %s AND alert_id = %s ORDER BY state",
            (bad["id"], alert_id),
        ).fetchall()
        assert ledger == [("failed", 3, "webhook: HTTP 500")] * 2

        mqtt_mine = [ln for ln in mqtt_lines.splitlines() if alert_id in ln]
        assert len(mqtt_mine) == 2
        assert all(ln.startswith("nt/v1/alerts/acme/major ") for ln in mqtt_mine)

        kafka_mine = [v for v in topic_values(env.settings.bootstrap, out_topic)
                      if v["alert_id"] == alert_id]  # fmt: skip
        assert sorted(v["state"] for v in kafka_mine) == ["cleared", "raised"]
        assert all(v["enterprise"] == "acme" for v in kafka_mine)

        mails = [m for m in mail.mails if alert_id.encode() in m]
        assert len(mails) == 2 and b"To: ops@acme.example" in mails[0]

        assert first.sent >= 8 and first.failed >= 2
        assert second.sent == 0 and second.failed == 0 and second.skipped >= 10

        # a crash between claim and send leaves "pending": the next worker sends it once more
        conn.execute(
            "UPDATE console_deliveries SET status = 'pending' WHERE subscription_id = %s"
            " AND alert_id = %s AND state = 'raised'",
            (good["id"], alert_id),
        )
        third = run_worker(env, f"console-test-{run}-third", smtp_port)
        assert third.sent == 1
        again = [r for r in hook.requests if alert_id.encode() in r[2] and r[0] == "/ok"]
        assert len(again) == 3
        assert again[-1][1]["X-Nengtan-Delivery"] == f"{good['id']}:{alert_id}:raised"
