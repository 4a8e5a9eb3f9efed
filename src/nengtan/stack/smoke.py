"""A round trip through each service, for ``nengtan stack check`` and the README's first command.

Each check sends something real and reads it back (a Kafka record, a PostgreSQL row, an MQTT
message), so "running" means usable, not just "a port is open".
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Callable

from nengtan.errors import ServiceError
from nengtan.settings import Settings

SMOKE_TOPIC = "nt.smoke.v1"


def check_kafka(settings: Settings) -> str:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    token = uuid.uuid4().hex.encode()
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    meta = producer.send(SMOKE_TOPIC, key=b"smoke", value=token).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap, consumer_timeout_ms=10_000, enable_auto_commit=False
    )
    tp = TopicPartition(SMOKE_TOPIC, meta.partition)
    consumer.assign([tp])
    consumer.seek(tp, meta.offset)
    try:
        for record in consumer:
            if record.value == token:
                return f"produced and consumed a record at {SMOKE_TOPIC}[{meta.partition}]@{meta.offset}"
    finally:
        consumer.close()
    raise ServiceError("Kafka accepted a record but it could not be read back")


def check_postgres(settings: Settings) -> str:
    import psycopg

    with psycopg.connect(settings.dsn, connect_timeout=10) as conn:
        conn.execute("CREATE TEMP TABLE smoke (token text)")
        token = uuid.uuid4().hex
        conn.execute("INSERT INTO smoke VALUES (%s)", (token,))
        row = conn.execute("SELECT token FROM smoke").fetchone()
        if row is None or row[0] != token:
            raise ServiceError("PostgreSQL did not return the row just written")
        return f"wrote and read a row in database {conn.info.dbname}"


def check_mqtt(settings: Settings) -> str:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    host, port = settings.mqtt_host_port
    topic = f"nt/v1/smoke/{uuid.uuid4().hex[:8]}"
    got: queue.Queue[bytes] = queue.Queue()
    from nengtan.mqttauth import OPS, apply_login, login_for

    login = login_for(settings, OPS)
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    apply_login(sub, login)
    sub.on_message = lambda _c, _u, msg: got.put(bytes(msg.payload))
    sub.connect(host, port)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    apply_login(pub, login)
    pub.connect(host, port)
    pub.loop_start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pub.publish(topic, b"smoke", qos=1).wait_for_publish(5)
            try:
                if got.get(timeout=0.5) == b"smoke":
                    return f"published and received a message on {topic}"
            except queue.Empty:
                continue
    finally:
        for client in (pub, sub):
            client.loop_stop()
            client.disconnect()
    raise ServiceError(f"MQTT broker at {host}:{port} did not deliver a message back")


CHECKS: dict[str, Callable[[Settings], str]] = {
    "postgres": check_postgres,
    "mosquitto": check_mqtt,
    "kafka": check_kafka,
}


def run_checks(settings: Settings) -> dict[str, str]:
    """Every check's outcome ('ok: …' or 'FAILED: …'); never raises for one failing service."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = "ok: " + check(settings)
        except Exception as exc:
            results[name] = f"FAILED: {exc}"
    return results
