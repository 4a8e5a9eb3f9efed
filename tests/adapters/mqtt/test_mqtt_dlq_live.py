"""Acceptance: bad inputs sent with ``mosquitto_pub`` each give one DLQ record with a clear
reason, and good data sent before and after them goes through undisturbed (real Mosquitto,
real Kafka, the real adapter)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import kafka_read
import pytest

from adapters.mqtt.hj212 import Hj212Message, encode
from adapters.mqtt.hj212.message import format_data_time
from adapters.runner import AdapterRunner
from ingest.contract import TOPIC_DLQ, TOPIC_READINGS
from ingest.park.loader import parse_park
from nengtan.mqttauth import gateway_account, login_for
from nengtan.mqttauth.client import cli_env
from nengtan.settings import Settings
from nengtan.stack.mosquitto import MosquittoService

pytestmark = pytest.mark.integration


def _park(uid: str) -> dict[str, Any]:
    return {
        "schema": "nengtan.park/1",
        "id": f"dlq-{uid}",
        "enterprises": [
            {
                "id": f"e-{uid}",
                "industry": "chemicals",
                "region": "CN-JS",
                "devices": [{"id": f"gw-{uid}", "protocol": "mqtt"}],
                "points": [
                    {
                        "id": f"p-{uid}.kwh",
                        "kind": "counter",
                        "carrier": "electricity",
                        "uom": "kWh",
                        "use": "purchased",
                        "device": f"gw-{uid}",
                    },
                ],
                "stacks": [{"id": f"stk-{uid}", "mn": "MN0001", "species": ["co2"]}],
            }
        ],
    }


def _pub(
    settings: Settings, topic: str, *, message: bytes | None = None, file: Path | None = None
) -> None:
    """``mosquitto_pub`` as the topic's enterprise gateway (when the broker wants logins)."""
    host, port = settings.mqtt_host_port
    cmd = [
        shutil.which("mosquitto_pub") or "mosquitto_pub",
        "-h",
        host,
        "-p",
        str(port),
        "-q",
        "1",
        "-t",
        topic,
    ]
    if file is not None:
        cmd += ["-f", str(file)]
    else:
        assert message is not None
        cmd += ["-s"]
    login = login_for(settings, gateway_account(topic.split("/")[2]))
    with cli_env(login) as env:
        subprocess.run(cmd, input=message, check=True, timeout=60, env=env)


def _payload(letter: dict[str, Any]) -> bytes:
    return base64.b64decode(letter["payload_b64"])


def test_each_bad_input_is_one_dlq_record_and_good_data_flows(
    stack_settings: Settings, tmp_path: Path
) -> None:
    uid = uuid.uuid4().hex[:8]
    park = parse_park(_park(uid), "dlq")
    MosquittoService(stack_settings).provision(park)  # its gateway account, if logins are on
    runner = AdapterRunner(park, stack_settings, spool_dir=tmp_path / "spool", protocols=["mqtt"])
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while not runner.adapters["mqtt"].status()["connected"] and time.monotonic() < deadline:
            time.sleep(0.1)
        now = time.time_ns() // 1_000_000
        topic = f"nt/v1/e-{uid}/gw-{uid}/readings"
        cems = f"nt/v1/e-{uid}/cems/stk-{uid}"
        point = f"p-{uid}.kwh"

        def batch(seq: int, reading: str) -> bytes:
            return (
                f'{{"schema":"nt.readings/1","device":"gw-{uid}","seq":{seq},"sent_ms":{now},'
                f'"readings":[{reading}]}}'
            ).encode()

        good = f'{{"point":"{point}","ts":{now},"value":1.5}}'
        _pub(stack_settings, topic, message=batch(1, good))
        _pub(stack_settings, topic, message=b'{"device": "oops", "seq": 2,')  # malformed JSON
        minute = (now // 60_000) * 60_000
        packet = encode(
            Hj212Message(
                st="31",
                cn="2051",
                mn="MN0001",
                data_time=format_data_time(minute),
                values={"a05001": {"Avg": "9.5", "Flag": "N"}},
            )
        )
        bad_crc = packet[:-6] + (b"0000" if packet[-6:-2] != b"0000" else b"1111") + b"\r\n"
        _pub(stack_settings, cems, message=bad_crc)
        _pub(
            stack_settings,
            topic,
            message=batch(3, f'{{"point":"p-{uid}.ghost","ts":{now},"value":1.0}}'),
        )
        _pub(
            stack_settings,
            topic,
            message=batch(4, f'{{"point":"{point}","ts":{now},"value":2.0,"uom":"MWh"}}'),
        )
        _pub(
            stack_settings, topic, message=batch(5, f'{{"point":"{point}","ts":{now},"value":NaN}}')
        )
        big = tmp_path / "big.bin"
        big.write_bytes(b"A" * (10 * 1024 * 1024))
        _pub(stack_settings, topic, file=big)
        _pub(
            stack_settings,
            topic,
            message=batch(6, f'{{"point":"{point}","ts":{now + 1000},"value":2.5}}'),
        )
        _pub(stack_settings, cems, message=packet)  # and a good CEMS minute
        dlq = kafka_read.read_topic(
            stack_settings.bootstrap,
            TOPIC_DLQ,
            key_prefix="mqtt:nt/v1/e-" + uid,
            until=lambda r: len(r) >= 6,
            timeout_s=60,
        )
        good_batches = kafka_read.read_topic(
            stack_settings.bootstrap,
            TOPIC_READINGS,
            key_prefix=f"gw-{uid}",
            until=lambda r: len(r) >= 2,
            timeout_s=30,
        )
        stack_batches = kafka_read.read_topic(
            stack_settings.bootstrap,
            TOPIC_READINGS,
            key_prefix=f"stk-{uid}",
            until=lambda r: len(r) >= 1,
            timeout_s=30,
        )
    finally:
        runner.stop()
    reasons = [d["reason"] for d in dlq]
    assert len(reasons) == 6, json.dumps(reasons, indent=1)
    whole = big.read_bytes()
    expected = {
        "malformed JSON": lambda d: (
            d["reason"].startswith("malformed JSON: ")
            and _payload(d) == b'{"device": "oops", "seq": 2,'
        ),
        "bad CRC": lambda d: d["reason"].startswith("HJ 212: bad CRC: expected "),
        "unknown point": lambda d: f"unknown point 'p-{uid}.ghost'" in d["reason"],
        "wrong unit": lambda d: "unit 'MWh' does not match the point's unit 'kWh'" in d["reason"],
        "NaN": lambda d: "value is nan (must be finite)" in d["reason"],
        # the whole 10 MiB in the record itself, byte-equal, with the parser's reason
        "10 MB": lambda d: (
            d["reason"].startswith("malformed JSON: ")
            and "truncated" not in d["reason"]
            and _payload(d) == whole
        ),
    }
    for name, matches in expected.items():
        assert sum(map(matches, dlq)) == 1, (name, reasons)
    # partitions keep per-source order: the readings topic's five rejections in publish order
    readings_dlq = [d for d in dlq if d["_key"].endswith("/readings")]
    assert [
        expected[n](d)
        for n, d in zip(
            ["malformed JSON", "unknown point", "wrong unit", "NaN", "10 MB"],
            readings_dlq,
            strict=True,
        )
    ] == [True] * 5
    assert [b["seq"] for b in good_batches] == [1, 6]
    assert [r["value"] for b in good_batches for r in b["readings"]] == [1.5, 2.5]
    assert stack_batches[0]["readings"] == [
        {"point": f"stk-{uid}.co2", "ts": minute, "value": 9.5, "q": "good"}
    ]
    assert runner.sample().dlq == 6


@pytest.mark.faults
def test_broker_restart_reconnects_and_resubscribes(local_stack: Any, tmp_path: Path) -> None:
    settings = local_stack.settings
    uid = uuid.uuid4().hex[:8]
    park = parse_park(_park(uid), "restart")
    local_stack.mosquitto.provision(park)
    runner = AdapterRunner(park, settings, spool_dir=tmp_path / "spool", protocols=["mqtt"])
    runner.start()
    mqtt = runner.adapters["mqtt"]
    topic = f"nt/v1/e-{uid}/gw-{uid}/readings"

    def wait_connected(up: bool) -> None:
        deadline = time.monotonic() + 40
        while bool(mqtt.status()["connected"]) != up and time.monotonic() < deadline:
            time.sleep(0.1)
        assert bool(mqtt.status()["connected"]) == up

    def message(seq: int) -> bytes:
        now = time.time_ns() // 1_000_000
        return (
            f'{{"device":"gw-{uid}","seq":{seq},"sent_ms":{now},'
            f'"readings":[{{"point":"p-{uid}.kwh","ts":{now},"value":{seq}.0}}]}}'
        ).encode()

    try:
        wait_connected(True)
        _pub(settings, topic, message=message(1))
        local_stack.mosquitto.stop()
        wait_connected(False)
        local_stack.mosquitto.start()
        wait_connected(True)
        time.sleep(1)
        _pub(settings, topic, message=message(2))
        got = kafka_read.read_topic(
            settings.bootstrap,
            TOPIC_READINGS,
            key_prefix=f"gw-{uid}",
            until=lambda r: len(r) >= 2,
            timeout_s=60,
        )
    finally:
        if local_stack.mosquitto.status().state != "running":
            local_stack.mosquitto.start()
        runner.stop()
    assert [b["seq"] for b in got] == [1, 2]
    assert mqtt.status()["connects"] >= 2
