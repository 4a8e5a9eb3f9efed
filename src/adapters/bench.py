"""Benchmark: MQTT JSON reading batches -> validation -> spool -> Kafka, in readings per second.

``mosquitto_pub`` processes publish ``total`` readings as JSON batches (QoS 1) to the MQTT
broker; this process runs the real MQTT adapter, intake and Kafka publisher. The figure is end
to end: from the first message received to the last record acknowledged by Kafka
(``acks=all``). The same
payloads are also pushed through validation alone (no I/O), which shows the hot path's ceiling.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nengtan.errors import ServiceError
from nengtan.settings import Settings


@dataclass(frozen=True, slots=True)
class BenchResult:
    readings: int
    batches: int
    seconds: float
    readings_per_s: float
    validate_readings_per_s: float
    dlq: int


def bench_park(devices: int, points: int) -> dict[str, Any]:
    """A park of ``devices`` MQTT gateways with ``points`` rate points each."""
    return {
        "schema": "nengtan.park/1",
        "id": "bench",
        "enterprises": [
            {
                "id": "bench-ent",
                "industry": "chemicals",
                "region": "CN-JS",
                "devices": [{"id": f"gw{d}", "protocol": "mqtt"} for d in range(devices)],
                "points": [
                    {
                        "id": f"gw{d}.p{p}",
                        "kind": "rate",
                        "carrier": "electricity",
                        "uom": "kW",
                        "use": "purchased",
                        "device": f"gw{d}",
                    }
                    for d in range(devices)
                    for p in range(points)
                ],
            }
        ],
    }


def payloads(devices: int, points: int, batches: int, start_ms: int) -> list[tuple[str, bytes]]:
    """(topic, payload) of ``batches`` JSON batches, round-robin over the devices."""
    out = []
    for b in range(batches):
        d = b % devices
        ts = start_ms + (b // devices) * 1000
        readings = [
            {"point": f"gw{d}.p{p}", "ts": ts, "value": float(p + b % 7), "uom": "kW"}
            for p in range(points)
        ]
        body = {
            "schema": "nt.readings/1",
            "device": f"gw{d}",
            "seq": b,
            "sent_ms": ts,
            "readings": readings,
        }
        out.append((f"nt/v1/bench-ent/gw{d}/readings", json.dumps(body).encode()))
    return out


def _publish(settings: Settings, devices: int, points: int, batches: int, start_ms: int) -> None:
    """Publish with one ``mosquitto_pub -l`` per device (C client, QoS 1, a message a line),
    so the load generator costs little of the CPU the adapter is measured on; it logs in as
    the load-generator account when the broker wants logins."""
    import shutil
    import subprocess

    from nengtan.mqttauth import LOADGEN, login_for
    from nengtan.mqttauth.client import cli_env

    host, port = settings.mqtt_host_port

    exe = shutil.which("mosquitto_pub")
    if exe is None:
        raise ServiceError("benchmark needs mosquitto_pub (Debian package mosquitto-clients)")
    by_topic: dict[str, list[bytes]] = {}
    for topic, payload in payloads(devices, points, batches, start_ms):
        by_topic.setdefault(topic, []).append(payload)
    procs = []
    with cli_env(login_for(settings, LOADGEN)) as env:
        for topic, lines in by_topic.items():
            cmd = [exe, "-h", host, "-p", str(port), "-q", "1", "-t", topic, "-l"]
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env)
            procs.append((proc, b"\n".join(lines) + b"\n"))
        for proc, data in procs:
            assert proc.stdin is not None
            proc.stdin.write(data)
            proc.stdin.close()
        for proc, _ in procs:
            proc.wait(600)


def validate_only(devices: int, points: int, batches: int) -> float:
    """Readings/s of JSON parse + validation + batch encoding alone, no I/O."""
    from ingest.intake import encode_batch
    from ingest.park.loader import parse_park
    from ingest.validate import Validator

    park = parse_park(bench_park(devices, points), "bench")
    validator = Validator.for_park(park)
    now = time.time_ns() // 1_000_000
    messages = payloads(devices, points, batches, now - 3_600_000)
    t0 = time.perf_counter()
    n = 0
    for _topic, payload in messages:
        batch = json.loads(payload)
        good, _bad = validator.check(batch["device"], batch["readings"], now)
        encode_batch(batch["device"], batch["seq"], batch["sent_ms"], good)
        n += len(good)
    return n / (time.perf_counter() - t0)


def run_bench(
    settings: Settings, *, total: int = 1_000_000, points: int = 500, devices: int = 20
) -> BenchResult:
    """Run the benchmark against the broker and Kafka named by ``settings``."""
    from adapters.runner import AdapterRunner
    from ingest.park.loader import parse_park

    batches = max(1, total // points)
    park = parse_park(bench_park(devices, points), "bench")
    with tempfile.TemporaryDirectory(prefix="nengtan-bench-") as tmp:
        runner = AdapterRunner(
            park,
            settings,
            spool_dir=Path(tmp),
            protocols=["mqtt"],
            # a fresh session: no messages left over from an earlier run
            overrides={"mqtt": {"client_id": f"nengtan-bench-{time.time_ns()}"}},
        )
        mqtt = runner.adapters["mqtt"]
        runner.start()
        _wait(lambda: bool(mqtt.status()["connected"]), 15, "MQTT broker", settings)
        _wait(lambda: runner.publisher.status().connected, 30, "Kafka", settings)
        start_ms = time.time_ns() // 1_000_000 - 3_600_000
        child = threading.Thread(
            target=_publish,
            args=(settings, devices, points, batches, start_ms),
            daemon=True,
        )
        child.start()
        expected = batches * points
        _wait(lambda: runner.intake.snapshot().readings > 0, 60, "first message", settings)
        t0 = time.perf_counter()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            c = runner.intake.snapshot()
            if (
                c.readings + c.rejected_readings >= expected
                and runner.publisher.status().spool.pending_records == 0
            ):
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - t0
        child.join(30)
        counters = runner.intake.snapshot()
        runner.stop()
    return BenchResult(
        readings=counters.readings,
        batches=counters.batches,
        seconds=seconds,
        readings_per_s=counters.readings / seconds,
        validate_readings_per_s=validate_only(devices, points, min(batches, 400)),
        dlq=counters.dlq,
    )


def _wait(predicate: Any, timeout_s: float, what: str, settings: Settings) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise ServiceError(
        f"benchmark: no {what} within {timeout_s:.0f} s (Kafka {settings.bootstrap}, MQTT "
        f"{settings.mqtt_host_port[0]}:{settings.mqtt_host_port[1]}); "
        "is `nengtan stack up` running?"
    )
