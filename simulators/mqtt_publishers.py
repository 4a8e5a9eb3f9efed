"""MQTT publishers: vendor gateways (JSON reading batches) and CEMS stacks (HJ 212 minute data).

- Gateways publish one ``nt.readings/1`` batch per tick on ``nt/v1/{enterprise}/{device}/readings``
  (``ingest.contract.ReadingBatch``), ``seq`` counting up per device, ``sent_ms`` and every
  reading's ``ts`` in the device's clock (simulated time plus any skew).
- Stacks publish one HJ 212-2017 minute message (CN 2051, ST 31, ``{code}-Avg`` and
  ``{code}-Flag`` per species, CRC-16 framed) or its JSON form on ``nt/v1/{enterprise}/cems/{stack}``,
  encoded with ``adapters.mqtt.hj212`` — the adapter's own codec.

Wire faults: ``duplicate`` re-sends the identical payload; ``out_of_order`` holds one message
back and sends it after the next; ``malformed`` and ``bad_crc`` send *extra* broken payloads
(the good data is never replaced). Every fault that fires is recorded for the truth file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from adapters.mqtt.hj212 import Hj212Message, encode, jsonform, load_codes
from adapters.mqtt.hj212.message import CN_MINUTE, format_data_time, format_qn, format_value
from ingest.contract import READINGS_SCHEMA, dumps
from ingest.park.index import ParkIndex
from nengtan.errors import ServiceError
from simulators.cems import CemsMinute
from simulators.engine import MeterTick
from simulators.faults import FaultPlan

if TYPE_CHECKING:
    from nengtan.mqttauth import Login

log = logging.getLogger(__name__)
Recorder = Callable[[dict[str, Any]], None]
DEFAULT_PW = "123456"
"""HJ 212 loggers' usual factory access password, sent by stacks the park gives none."""


class MqttOut:
    """The paho clients of a run (QoS 1, loops in paho's threads): one anonymous client, or,
    when the broker wants logins, one per enterprise with its gateway account (the broker lets
    an account publish only to its own enterprise's topics, as a real site's gateways)."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str = "nengtan-simulators",
        logins: Mapping[str, Login | None] | None = None,
    ) -> None:
        from nengtan.mqttauth import apply_login

        self.host, self.port = host, port
        self.clients: dict[str, mqtt.Client] = {}
        if logins and any(login is not None for login in logins.values()):
            for ent, login in logins.items():
                self.clients[ent] = self._client(f"{client_id}-{ent}")
                apply_login(self.clients[ent], login)
        else:
            self.clients[""] = self._client(client_id)
        self.owner: dict[str, str] = {}
        """Topic → the enterprise whose client publishes it (set by the publishers)."""
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._lock = threading.Lock()
        self.sent = 0

    @staticmethod
    def _client(client_id: str) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        client.max_queued_messages_set(0)
        return client

    def connect(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        for client in self.clients.values():
            while True:
                try:
                    rc = client.connect(self.host, self.port, keepalive=30)
                    break
                except OSError as exc:
                    if time.monotonic() > deadline:
                        raise ServiceError(
                            f"MQTT broker {self.host}:{self.port} unreachable: {exc}; start one "
                            "(nengtan stack up) or set NENGTAN_MQTT_URL"
                        ) from exc
                    time.sleep(0.2)
            if rc != 0:
                raise ServiceError(f"MQTT broker {self.host}:{self.port}: connect failed ({rc})")
            client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        client = self.clients.get(self.owner.get(topic, "")) or next(iter(self.clients.values()))
        info = client.publish(topic, payload, qos=1)
        self.sent += 1
        with self._lock:
            self._pending.append(info)
            if len(self._pending) > 1000:
                self._pending = [i for i in self._pending if not i.is_published()]

    def close(self, timeout_s: float = 10.0) -> None:
        """Wait until the broker has every message, then disconnect."""
        deadline = time.monotonic() + timeout_s
        for info in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("mqtt: %d messages not acknowledged", len(self._pending))
                break
            try:
                info.wait_for_publish(timeout=left)
            except (RuntimeError, ValueError) as exc:
                log.warning("mqtt: %s", exc)
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()


class GatewayPublisher:
    """The MQTT vendor gateways of a park."""

    def __init__(self, ix: ParkIndex, plan: FaultPlan, out: MqttOut, record: Recorder) -> None:
        self.ix, self.plan, self.out, self.record = ix, plan, out, record
        self.seq: dict[str, int] = {}
        self.held: dict[str, tuple[str, bytes]] = {}
        self.topics: dict[str, str] = {}
        for dev in ix.devices.values():
            if dev.protocol == "mqtt":
                ent = ix.device_enterprise[dev.id]
                topic = dev.mqtt.topic if dev.mqtt and dev.mqtt.topic else None
                self.topics[dev.id] = topic or f"nt/v1/{ent}/{dev.id}/readings"
                out.owner[self.topics[dev.id]] = ent

    def apply(self, tick: MeterTick) -> None:
        g = tick.group
        for di, dev in enumerate(g.devices):
            if dev.id not in self.topics or not tick.emitting[di]:
                continue
            a, b = g.dev_slices[di]
            ts = tick.t_ms + g.dev_skew_ms[di]
            seq = self.seq.get(dev.id, 0)
            self.seq[dev.id] = seq + 1
            batch = {
                "schema": READINGS_SCHEMA,
                "device": dev.id,
                "seq": seq,
                "sent_ms": ts,
                "readings": [
                    {"point": g.point_ids[i], "ts": ts, "value": float(tick.values[i]), "q": "good"}
                    for i in range(a, b)
                ],
            }
            self._send(dev.id, self.topics[dev.id], dumps(batch), tick.t_ms, {"seq": seq})

    def _send(self, src: str, topic: str, payload: bytes, t: int, info: dict[str, Any]) -> None:
        _send(self.plan, self.out, self.record, self.held, src, topic, payload, t, info)
        for _ in range(self.plan.take_malformed(src, t)):
            self.out.publish(topic, payload[: max(len(payload) // 2, 1)] + b"\x00<garbage")
            self.record({"kind": "malformed", "target": src, "t": t})


def _send(
    plan: FaultPlan,
    out: MqttOut,
    record: Recorder,
    held: dict[str, tuple[str, bytes]],
    src: str,
    topic: str,
    payload: bytes,
    t: int,
    info: dict[str, Any],
) -> None:
    """Publish with the duplicate and out-of-order faults applied."""
    if plan.take_out_of_order(src, t):
        held[src] = (topic, payload)
        record({"kind": "out_of_order", "target": src, "t": t, **info})
        return
    out.publish(topic, payload)
    if plan.is_duplicated(src, t):
        out.publish(topic, payload)
        record({"kind": "duplicate", "target": src, "t": t, **info})
    if src in held:
        late_topic, late = held.pop(src)
        out.publish(late_topic, late)


class CemsPublisher:
    """The CEMS stacks of a park: one message per emitted minute."""

    def __init__(self, ix: ParkIndex, plan: FaultPlan, out: MqttOut, record: Recorder) -> None:
        self.ix, self.plan, self.out, self.record = ix, plan, out, record
        self.codes = load_codes()
        self.held: dict[str, tuple[str, bytes]] = {}
        self.pw: dict[str, str] = {}
        """Stack → the PW its logger sends: the park's, else the common factory default."""
        for sid, st in ix.stacks.items():
            ent = ix.stack_enterprise[sid]
            out.owner[st.topic or f"nt/v1/{ent}/cems/{sid}"] = ent
            self.pw[sid] = st.password() or DEFAULT_PW

    def message(self, m: CemsMinute) -> Hj212Message:
        """The HJ 212 minute message of ``m`` (DataTime in Beijing time, as loggers send)."""
        values: dict[str, dict[str, str]] = {}
        for sp, v in m.values.items():
            code = self.codes.by_species[sp].code
            values[code] = {"Avg": format_value(v), "Flag": m.flag}
        return Hj212Message(
            st="31",
            cn=CN_MINUTE,
            mn=m.stack.mn,
            qn=format_qn(m.t_ms),
            pw=self.pw.get(m.stack.id, DEFAULT_PW),
            flag=4,
            data_time=format_data_time(m.ts_ms),
            values=values,
        )

    def apply(self, m: CemsMinute) -> None:
        if not m.emitted:
            return
        st = m.stack
        topic = st.topic or f"nt/v1/{m.enterprise}/cems/{st.id}"
        msg = self.message(m)
        payload = jsonform.dumps(msg) if st.format == "json" else encode(msg)
        _send(
            self.plan,
            self.out,
            self.record,
            self.held,
            st.id,
            topic,
            payload,
            m.t_ms,
            {"ts": m.ts_ms},
        )
        for _ in range(self.plan.take_bad_crc(st.id, m.t_ms)):
            broken = _break_crc(payload)
            self.out.publish(topic, broken)
            self.record({"kind": "bad_crc", "target": st.id, "t": m.t_ms, "ts": m.ts_ms})
        for _ in range(self.plan.take_malformed(st.id, m.t_ms)):
            if st.format == "json":
                garbage = payload[: len(payload) // 2]
            else:  # framed with a correct CRC, but the data segment lacks MN and CP
                from adapters.mqtt.hj212 import frame

                garbage = frame(f"QN={msg.qn};ST=31;CN=2051;PW={msg.pw};Flag=4")
            self.out.publish(topic, garbage)
            self.record({"kind": "malformed", "target": st.id, "t": m.t_ms})


def _break_crc(packet: bytes) -> bytes:
    """The same packet with its 4 hex CRC digits changed."""
    crc = int(packet[-6:-2], 16)
    return packet[:-6] + b"%04X" % (crc ^ 0x5A5A) + packet[-2:]
