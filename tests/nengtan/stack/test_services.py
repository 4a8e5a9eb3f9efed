"""The stack's services answer real clients: Kafka produce/consume, PostgreSQL, MQTT."""

from __future__ import annotations

import queue
import time
import uuid

import paho.mqtt.client as mqtt
import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer

from ingest.contract import ALL_TOPICS
from nengtan.settings import Settings

pytestmark = pytest.mark.integration


def test_kafka_produce_consume_and_contract_topics(stack_settings: Settings) -> None:
    topic = f"nt.test.{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=stack_settings.bootstrap, acks="all")
    for i in range(10):
        producer.send(topic, key=b"dev", value=f"m{i}".encode())
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=stack_settings.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=15_000,
    )
    got = [m.value for m in consumer]
    assert got == [f"m{i}".encode() for i in range(10)]
    assert set(ALL_TOPICS) <= set(consumer.topics())
    consumer.close()


def test_postgres_write_read(stack_settings: Settings) -> None:
    with psycopg.connect(stack_settings.dsn) as conn:
        assert conn.info.dbname == "nengtan"
        conn.execute("CREATE TEMP TABLE probe (k text PRIMARY KEY, v double precision)")
        conn.execute("INSERT INTO probe VALUES ('a', 1.5), ('b', 2.25)")
        row = conn.execute("SELECT sum(v) FROM probe").fetchone()
    assert row is not None and row[0] == pytest.approx(3.75)


def test_mqtt_publish_receive(stack_settings: Settings) -> None:
    host, port = stack_settings.mqtt_host_port
    received: queue.Queue[bytes] = queue.Queue()
    topic = f"nt/v1/test/{uuid.uuid4().hex[:8]}/readings"

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-sub")
    sub.on_message = lambda _c, _u, msg: received.put(msg.payload)
    sub.connect(host, port)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    time.sleep(0.3)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-pub")
    pub.connect(host, port)
    pub.loop_start()
    pub.publish(topic, b'{"hello":1}', qos=1).wait_for_publish(5)
    try:
        assert received.get(timeout=5) == b'{"hello":1}'
    finally:
        for client in (pub, sub):
            client.loop_stop()
            client.disconnect()
