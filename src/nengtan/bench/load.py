"""The benchmark's park and load driver: MQTT vendor gateways publishing ``nt.readings/1``
batches of counter readings, stamped with the wall clock at publish time, at a set rate.

Why a gateway load rather than the simulators: the simulators' Modbus and OPC UA servers are
per-value Python (docs/simulators.md), far slower than the pipeline; a gateway batch is what a
vendor sends, takes the same path through the MQTT adapter, validation, spool, Kafka, the
stream worker and the sink, and its timestamps are the instant of sending, so the latency
reading → database row / alert is measured against the real clock.

Alarm points: an extra gateway whose counters are reset one at a time (value back to 0), one
every ``alarm_every_s``: each reset raises ``point-counter-anomaly`` at once
(streams/data/alert_rules.yaml), which gives the reading → alert latency.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ALARM_DEVICE = "benchalarm-gw"


@dataclass(frozen=True)
class BenchPark:
    """The generated park: ``devices`` gateways of ``points`` counters each, plus alarms."""

    devices: int
    points: int
    alarm_points: int

    def device_ids(self) -> list[str]:
        return [f"bench{d:03d}-gw" for d in range(self.devices)]

    def point_ids(self, device: str) -> list[str]:
        ent = device.removesuffix("-gw")
        return [f"{ent}.p{i:05d}" for i in range(self.points)]

    def alarm_ids(self) -> list[str]:
        return [f"benchalarm.a{i:04d}" for i in range(self.alarm_points)]

    def probes(self) -> list[str]:
        """One point per gateway whose newest stored reading the latency probe watches."""
        return [self.point_ids(d)[0] for d in self.device_ids()]

    def write(self, path: Path) -> Path:
        """The park YAML (docs/park-model.md): one enterprise per gateway."""
        lines = ["schema: nengtan.park/1", "id: bench-park", "name: Benchmark park",
                 "region: CN-JS", "enterprises:"]  # fmt: skip
        for dev in [*self.device_ids(), ALARM_DEVICE]:
            ent = dev.removesuffix("-gw")
            ids = self.alarm_ids() if dev == ALARM_DEVICE else self.point_ids(dev)
            lines += [f"  - id: {ent}", f"    name: {ent}", "    industry: chemicals",
                      "    region: CN-JS",
                      "    devices:", f"      - {{id: {dev}, protocol: mqtt, update_s: 1}}",
                      "    points:"]  # fmt: skip
            lines += [
                f"      - {{id: {p}, kind: counter, carrier: electricity, uom: kWh,"
                f" use: purchased, device: {dev}, load: {{nominal: 100000}}}}"
                for p in ids
            ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


@dataclass
class Driver:
    """Publishes every gateway's batch each ``interval_s`` from a thread; counts what it sent."""

    park: BenchPark
    host: str
    port: int
    interval_s: float = 1.0
    alarm_every_s: float = 2.0
    published_readings: int = 0
    published_messages: int = 0
    resets: dict[str, int] = field(default_factory=dict)
    """Alarm point → ts (epoch ms) of its reset reading."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _alarm_at: float = 0.0
    _alarm_seq: int = 0
    _thread: threading.Thread | None = None

    def start(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from nengtan.mqttauth import LOADGEN, apply_login, login_for
        from nengtan.settings import load_settings

        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="nengtan-bench")
        apply_login(self._client, login_for(load_settings(), LOADGEN))
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._client.connect(self.host, self.port)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="bench-driver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._client.loop_stop()
        self._client.disconnect()

    def _run(self) -> None:
        devices = self.park.device_ids()
        prefixes = {
            d: [f'{{"point":"{p}","ts":' for p in self.park.point_ids(d)] for d in devices
        }
        seq = 0
        next_at = time.monotonic()
        self._alarm_at = time.monotonic() + self.alarm_every_s
        while not self._stop.is_set():
            # one round: every gateway once, spread evenly over the interval (no bursts)
            step = self.interval_s / len(devices)
            value = seq * 0.25
            for dev in devices:
                now_ms = time.time_ns() // 1_000_000
                ent = dev.removesuffix("-gw")
                body = ",".join(f'{pre}{now_ms},"value":{value + i * 1e-3:.3f},"q":"good"}}'
                                for i, pre in enumerate(prefixes[dev]))  # fmt: skip
                msg = (f'{{"schema":"nt.readings/1","device":"{dev}","seq":{seq},'
                       f'"sent_ms":{now_ms},"readings":[{body}]}}')  # fmt: skip
                self._client.publish(f"nt/v1/{ent}/{dev}/readings", msg, qos=1)
                self.published_readings += self.park.points
                self.published_messages += 1
                if time.monotonic() >= self._alarm_at:
                    self._alarm()
                next_at = self._pace(next_at, step)
                if self._stop.is_set():
                    return
            seq += 1

    def _alarm(self) -> None:
        """The alarm gateway's batch, every ``alarm_every_s``: a new alarm point's first value
        (5), and the previous one's drop to 0 — a meter reset, which raises
        ``point-counter-anomaly`` at once. Two readings per batch, so alarms add no load."""
        self._alarm_at += self.alarm_every_s
        ids = self.park.alarm_ids()
        k = self._alarm_seq
        self._alarm_seq += 1
        now_ms = time.time_ns() // 1_000_000
        values: dict[str, float] = {}
        if k < len(ids):
            values[ids[k]] = 5.0
        if 1 <= k <= len(ids):
            values[ids[k - 1]] = 0.0
            self.resets[ids[k - 1]] = now_ms
        if not values:
            return
        body = ",".join(f'{{"point":"{p}","ts":{now_ms},"value":{v:.1f},"q":"good"}}'
                        for p, v in values.items())  # fmt: skip
        msg = (f'{{"schema":"nt.readings/1","device":"{ALARM_DEVICE}","seq":{k},'
               f'"sent_ms":{now_ms},"readings":[{body}]}}')  # fmt: skip
        self._client.publish(f"nt/v1/benchalarm/{ALARM_DEVICE}/readings", msg, qos=1)
        self.published_readings += len(values)
        self.published_messages += 1

    def _pace(self, next_at: float, step: float) -> float:
        """Sleep until the next publish slot; when behind, carry on at once without a burst."""
        next_at += step
        delay = next_at - time.monotonic()
        if delay > 0:
            self._stop.wait(delay)
            return next_at
        return time.monotonic()
