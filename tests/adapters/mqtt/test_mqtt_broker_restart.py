"""A Mosquitto SIGKILL soon after the adapter subscribed: the broker comes back with the
adapter's session, so a message published before the adapter has reconnected still reaches it
(real Mosquitto from the session's stack, the real adapter, its spool read back)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from adapters.mqtt.adapter import MqttAdapter
from adapters.mqtt.config import MqttConfig
from ingest.intake import Intake
from ingest.park.models import Park
from ingest.publisher import Publisher
from ingest.validate import Validator
from nengtan.mqttauth import ADAPTER, LOADGEN, apply_login, login_for
from nengtan.settings import Settings
from nengtan.stack.procs import port_in_use, wait_until
from nengtan.stack.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

SAVED_S = 4.0
"""Time for the broker to save the new session: the generated config's ``autosave_interval``
is 1 s, and Mosquitto saves once ``last save + interval < now`` in whole seconds (so every
2 s), plus the save itself. Far below the 30 s the config used to have: with that, the broker
comes back without the session and this test fails."""


def _publish_once(settings: Settings, topic: str, payload: bytes) -> None:
    """One QoS 1 message, acknowledged by the broker, from a client of its own."""
    host, port = settings.mqtt_host_port
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{time.time_ns()}")
    apply_login(client, login_for(settings, LOADGEN))
    client.connect(host, port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def test_a_killed_broker_keeps_the_adapter_session(
    local_stack: Stack, tiny_park: Park, publisher: Publisher,
    sent: Callable[[], tuple[list[Any], list[Any]]],
) -> None:  # fmt: skip
    """The message is published while no adapter is connected (the first adapter is stopped
    while the broker is down, a second one with the same client id starts after the publish),
    so only the broker's saved session can route it."""
    host, port = local_stack.settings.mqtt_host_port
    login = login_for(local_stack.settings, ADAPTER)
    config = MqttConfig(
        host=host,
        port=port,
        client_id=f"restart-{time.time_ns()}",
        username=login.username if login else None,
        password=SecretStr(login.password) if login else None,
    )
    intake = Intake(Validator.for_park(tiny_park), publisher)
    first, second = MqttAdapter(config, intake, tiny_park), MqttAdapter(config, intake, tiny_park)
    first.start()
    try:
        wait_until(
            lambda: first.status()["connected"], timeout_s=20, what="the adapter's connection"
        )
        time.sleep(SAVED_S)
        local_stack.mosquitto.kill()
        wait_until(
            lambda: not first.status()["connected"], timeout_s=20, what="the adapter's disconnect"
        )
        first.stop()
        wait_until(
            lambda: not port_in_use(port), timeout_s=30, what="the killed broker's port release"
        )
        local_stack.mosquitto.start()
        ts = time.time_ns() // 1_000_000 - 1000
        batch = {"schema": "nt.readings/1", "device": "gw1", "seq": 1, "sent_ms": ts,
                 "readings": [{"point": "p.kwh", "ts": ts, "value": 42.5}]}  # fmt: skip
        _publish_once(local_stack.settings, "nt/v1/ent1/gw1/readings", json.dumps(batch).encode())
        second.start()
        wait_until(
            lambda: second.status()["connected"],
            timeout_s=20,
            what="the second adapter's connection",
        )
        wait_until(
            lambda: second.status()["messages"] >= 1,
            timeout_s=10,
            what="the message at the second adapter",
        )
        batches, dlq = sent()
    finally:
        first.stop()
        second.stop()
        if local_stack.mosquitto.pid() is None:
            local_stack.mosquitto.start()
    assert dlq == []
    assert [r["value"] for b in batches for r in b["readings"]] == [42.5]
