"""Alert delivery against the real Kafka and Mosquitto: an alert on ``nt.alerts.v1`` reaches a
webhook (valid signature), an MQTT subscriber (``mosquitto_sub``), a Kafka topic and an SMTP
server exactly once per event; a failing webhook is retried and its failure recorded; a
restarted worker re-reading the topic sends nothing again; a delivery left ``pending`` by a
crash is sent once more; a poisoned subscription (an e-mail target with CR/LF stored before
targets were checked, a refusing webhook) fails alone, is marked failing with a short error
category, and the other subscribers still receive every alert."""

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
from console.delivery.health import FAILING_AFTER
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


ADMIN = Scope("admin", None, "admin")


def run_worker(env: ConsoleEnv, group: str, smtp_port: int, attempts: int = 3) -> Counts:
    cs = load_console_settings(delivery_group=group, webhook_attempts=attempts,
                               backoff_initial_s=0.05, smtp_port=smtp_port,
                               webhook_timeout_s=3)  # fmt: skip
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
    out_topic = f"nt.tenant.acme.test-{run}"
    admin = KafkaAdminClient(bootstrap_servers=env.settings.bootstrap)
    admin.create_topics([NewTopic(out_topic, num_partitions=1, replication_factor=1)])
    admin.close()
    host, port = env.settings.mqtt_host_port
    acme = Scope("enterprise", "acme", "acme")

    with webhook_receiver() as (url, hook), smtp_receiver() as (smtp_port, mail), \
            psycopg.connect(env.dsn, autocommit=True) as conn:  # fmt: skip
        # the loopback receiver is an inside address: an administrator allow-lists its port
        subscriptions.allow(conn, ADMIN, "127.0.0.1/32", int(url.rsplit(":", 1)[1]), "test")
        good = subscriptions.create(conn, acme, {"channel": "webhook", "target": f"{url}/ok"}, "")
        # the failing hook takes this test's alerts only (their metric): other tests' alerts on
        # the shared topic would otherwise mark it failing before these arrive
        bad = subscriptions.create(conn, acme, {"channel": "webhook", "target": f"{url}/fail",
                                                "metric": f"co2e_t-{run}"}, "")  # fmt: skip
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
                rec["metric"] = f"co2e_t-{run}"
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
        assert ledger == [("failed", 3, "HTTP 500")] * 2

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


def closed_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_poisoned_subscription_fails_alone(console_env: ConsoleEnv) -> None:
    env = console_env
    run = uuid.uuid4().hex[:10]
    acme = Scope("enterprise", "acme", "acme")
    alerts = [alert(f"enterprise-co2e-1h:acme:{run}-{i}", "raised", 1_700_000_000_000 + i)
              for i in range(6)]  # fmt: skip
    refusing = closed_port()

    with webhook_receiver() as (url, hook), smtp_receiver() as (smtp_port, mail), \
            psycopg.connect(env.dsn, autocommit=True) as conn:  # fmt: skip
        conn.execute("UPDATE console_subscriptions SET deleted_at = now()")  # earlier tests'
        subscriptions.allow(conn, ADMIN, "127.0.0.1/32", int(url.rsplit(":", 1)[1]), "good hook")
        subscriptions.allow(conn, ADMIN, "127.0.0.1/32", refusing, "refusing hook")
        good = subscriptions.create(conn, acme, {"channel": "webhook", "target": f"{url}/ok"}, "")
        bad_hook = subscriptions.create(
            conn, acme, {"channel": "webhook", "target": f"http://127.0.0.1:{refusing}/x"}, ""
        )
        # stored as it could be before targets were checked: CR/LF in the address
        poison = conn.execute(
            "INSERT INTO console_subscriptions (owner, enterprise, channel, target)"
            " VALUES ('acme', 'acme', 'email', %s) RETURNING id",
            ("ops@acme.example\r\nBcc: everyone@evil.example",),
        ).fetchone()
        assert poison is not None
        poison_id = int(poison[0])

        producer = KafkaProducer(bootstrap_servers=env.settings.bootstrap, acks="all")
        for rec in alerts:
            producer.send(TOPIC_ALERTS, key=b"acme", value=dumps(rec)).get(timeout=15)
        producer.close()

        cs = load_console_settings(delivery_group=f"console-poison-{run}", webhook_attempts=1,
                                   backoff_initial_s=2.0, smtp_port=smtp_port,
                                   webhook_timeout_s=3)  # fmt: skip
        s = env.settings

        def work(group: str) -> Counts:
            return run_delivery(s.bootstrap, s.dsn, s.mqtt_host_port,
                                cs.model_copy(update={"delivery_group": group}),
                                threading.Event(), idle_exit_s=3)  # fmt: skip

        first = work(f"console-poison-{run}")  # returns: the worker did not die
        ids = {a["alert_id"] for a in alerts}
        got = [json.loads(r[2])["alert_id"] for r in hook.requests if r[0] == "/ok"]
        assert sorted(a for a in got if a in ids) == sorted(ids)  # every alert, once
        assert first.sent >= 6 and first.failed >= 2 * FAILING_AFTER

        health = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, health, failures, last_error FROM console_subscriptions"
            " WHERE id = ANY(%s)", ([good["id"], bad_hook["id"], poison_id],)).fetchall()}  # fmt: skip
        assert health[good["id"]] == ("ok", 0, None)
        assert health[poison_id][0] == "failing" and health[poison_id][2] == "target refused"
        assert health[bad_hook["id"]][0] == "failing"
        assert health[bad_hook["id"]][2] == "connection refused"
        # the tenant sees categories only: no addresses, errno or exception names
        mine = (bad_hook["id"], poison_id)
        shown = [d for d in subscriptions.deliveries(conn, acme, limit=1000)
                 if d["subscription_id"] in mine]  # fmt: skip
        errors = {d["last_error"] for d in shown if d["last_error"]}
        assert errors <= {"target refused", "connection refused"}, errors
        poison_rows = [d for d in shown if d["subscription_id"] == poison_id]
        assert {d["status"] for d in poison_rows} <= {"failed", "deferred"}
        assert "deferred" in {d["status"] for d in poison_rows}
        assert not any(b"evil" in m for m in mail.mails)

        # restarted on the whole topic: still alive, nothing sent twice to the good hook
        second = work(f"console-poison-{run}-again")
        got = [json.loads(r[2])["alert_id"] for r in hook.requests if r[0] == "/ok"]
        assert len([a for a in got if a in ids]) == 6
        assert second.sent == 0 or second.sent == len([m for m in mail.mails if run.encode() in m])

        # the owner fixes the address: the deferred alerts go out once it may be tried again
        conn.execute(
            "UPDATE console_subscriptions SET target = 'ops@acme.example',"
            " next_attempt_at = now() WHERE id = %s",
            (poison_id,),
        )
        work(f"console-poison-{run}-third")
        after = conn.execute(
            "SELECT health, failures FROM console_subscriptions WHERE id = %s", (poison_id,)
        ).fetchone()
        assert after == ("ok", 0)
        statuses = {r[0] for r in conn.execute(
            "SELECT status FROM console_deliveries WHERE subscription_id = %s",
            (poison_id,)).fetchall()}  # fmt: skip
        assert statuses <= {"sent", "failed"}
        assert len([m for m in mail.mails if run.encode() in m]) >= 1
