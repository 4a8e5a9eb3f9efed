"""MQTT adapter: gateway JSON batches and CEMS stacks (HJ 212-2017 text or its JSON form).

Subscribes with QoS 1 on a persistent session (``clean_session=False``, a stable client id),
so the broker keeps messages while the adapter is away. The broker must save that session
(Mosquitto: ``persistence true`` and a short ``autosave_interval``) to keep it across its own
restarts; a reconnect that finds it gone is logged and counted (``sessions_lost``). Messages
are acknowledged to the broker only after they are in the spool (``manual_ack``): a message
the adapter could not store (spool full, crash) is redelivered, never lost.

- ``nt/v1/{enterprise}/{device}/readings``: a ``nt.readings/1`` batch; readings may carry
  ``uom`` (checked against the point, then dropped). The batch is republished with only its
  valid readings; bad readings go to the DLQ with the whole payload.
- ``nt/v1/{enterprise}/cems/{stack}``: one HJ 212 message (``##...``, CRC checked) or its
  JSON form (``{...}``); each factor code maps to a park species (``hj212/data``), giving
  point ``{stack}.{species}``; the code's ``-Flag`` gives the quality (only ``N`` is good).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import SecretStr

from adapters.base import Adapter
from adapters.mqtt import hj212
from adapters.mqtt.config import MqttConfig
from adapters.mqtt.hj212 import jsonform
from ingest.intake import Intake, now_ms
from ingest.spool import SpoolFull
from nengtan.errors import ConfigError

if TYPE_CHECKING:
    from ingest.park.models import Park
    from nengtan.settings import Settings

log = logging.getLogger(__name__)


class MqttAdapter(Adapter):
    """See the module docstring."""

    protocol = "mqtt"
    config: MqttConfig

    def __init__(self, config: MqttConfig, intake: Intake, park: Park | None = None) -> None:
        super().__init__(config, intake, park)
        self.codes = hj212.load_codes(config.codes_file)
        self._client: Any = None
        self._lock = threading.Lock()
        self._stats = {
            "messages": 0,
            "cems": 0,
            "other_cn": 0,
            "rejected": 0,
            "unacked": 0,
            "connects": 0,
            "sessions_lost": 0,
        }
        self._connected = False
        self._stopped = False
        self._stacks: dict[str, tuple[str, str, frozenset[str]]] = {}
        self._pw: dict[str, str] = {}
        if park is not None:
            for sid, stack in park.index.stacks.items():
                ent = park.index.stack_enterprise[sid]
                self._stacks[sid] = (ent, stack.mn, frozenset(stack.species))
                pw = stack.password()
                if pw is not None:
                    self._pw[sid] = pw

    @classmethod
    def configs_for_park(cls, park: Park, settings: Settings) -> list[Any]:
        ix = park.index
        needed = bool(ix.stacks) or any(d.protocol == "mqtt" for d in ix.devices.values())
        if not needed:
            return []
        from nengtan.mqttauth import ADAPTER, login_for

        host, port = settings.mqtt_host_port
        login = login_for(settings, ADAPTER)
        return [
            MqttConfig(
                host=host,
                port=port,
                client_id=f"nengtan-adapters-{park.id}",
                username=login.username if login else None,
                password=SecretStr(login.password) if login else None,
            )
        ]

    def validate(self) -> None:
        for topic in (self.config.readings_topic, self.config.cems_topic):
            if not topic or "#" in topic[:-1]:
                raise ConfigError(f"mqtt: topic filter {topic!r} is not valid")

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            clean_session=False,
            protocol=MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if self.config.username is not None:
            password = self.config.password.get_secret_value() if self.config.password else None
            client.username_pw_set(self.config.username, password)
        self._client = client
        client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        client.loop_start()

    def stop(self) -> None:
        if self._stopped or self._client is None:
            self._stopped = True
            return
        self._stopped = True
        self._client.disconnect()
        self._client.loop_stop()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"connected": self._connected, **self._stats}

    # -- paho callbacks (network thread) -------------------------------------------------------
    def _on_connect(self, client: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning(
                "MQTT connect to %s:%s as %r refused: %s",
                self.config.host, self.config.port, self.config.username, reason,
            )  # fmt: skip
            return
        client.subscribe(
            [
                (self.config.readings_topic, self.config.qos),
                (self.config.cems_topic, self.config.qos),
            ]
        )
        with self._lock:
            self._connected = True
            self._stats["connects"] += 1
            lost = self._stats["connects"] > 1 and not getattr(flags, "session_present", True)
            if lost:
                self._stats["sessions_lost"] += 1
        if lost:
            # the broker forgot this client (restarted without its saved state): what the
            # publishers sent between its restart and this subscription went to no one
            log.warning(
                "MQTT broker %s:%s had no session for client %r on reconnect: messages published"
                " while the adapter was not subscribed may be lost (broker persistence off, or"
                " killed before it saved the session)",
                self.config.host, self.config.port, self.config.client_id,
            )  # fmt: skip
        log.info("MQTT connected to %s:%s", self.config.host, self.config.port)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        with self._lock:
            self._connected = False
        if not self._stopped:
            log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _on_message(self, client: Any, _u: Any, msg: Any) -> None:
        try:
            self.handle(msg.topic, msg.payload)
        except SpoolFull as exc:
            # not acknowledged: the broker redelivers it after the next reconnect
            log.error("%s; message on %s left unacknowledged", exc, msg.topic)
            self.intake.dropped()
            with self._lock:
                self._stats["unacked"] += 1
            return
        except Exception as exc:  # never let one message stop ingestion
            log.exception("unexpected error on %s", msg.topic)
            self.intake.reject(f"mqtt:{msg.topic}", f"adapter error: {exc!r}", bytes(msg.payload))
        if msg.qos > 0:
            client.ack(msg.mid, msg.qos)

    # -- message handling (pure: testable without a broker) ------------------------------------
    def handle(self, topic: str, payload: bytes) -> None:
        """Route one message by topic: ``.../readings`` or ``.../cems/{stack}``."""
        received = now_ms()
        with self._lock:
            self._stats["messages"] += 1
        parts = topic.split("/")
        source = f"mqtt:{topic}"
        if len(parts) != 5 or parts[0] != "nt" or parts[1] != "v1":
            self._reject(source, f"topic {topic!r} is not nt/v1/{{enterprise}}/...", payload)
            return
        if parts[3] == "cems":
            self._cems(parts[2], parts[4], source, payload, received)
        elif parts[4] == "readings":
            self._readings(parts[2], parts[3], source, payload, received)
        else:
            self._reject(
                source, f"topic {topic!r}: expected .../readings or .../cems/{{stack}}", payload
            )

    def _reject(
        self, source: str, reason: str, payload: bytes, received: int | None = None
    ) -> None:
        with self._lock:
            self._stats["rejected"] += 1
        self.intake.reject(source, reason, payload, received)

    def _readings(
        self, enterprise: str, device: str, source: str, payload: bytes, received: int
    ) -> None:
        try:
            batch = orjson.loads(payload)
        except orjson.JSONDecodeError:
            # strict JSON failed; the standard library also reads NaN/Infinity literals, which
            # validation then names per reading ("value is nan"), and words its errors well
            try:
                batch = json.loads(payload)
            except (ValueError, UnicodeDecodeError) as exc:
                self._reject(source, f"malformed JSON: {exc}", payload, received)
                return
        if not isinstance(batch, dict):
            self._reject(
                source,
                f"expected a JSON object (a reading batch), got {type(batch).__name__}",
                payload,
                received,
            )
            return
        schema = batch.get("schema", "nt.readings/1")
        if schema != "nt.readings/1":
            self._reject(source, f"schema {schema!r} is not 'nt.readings/1'", payload, received)
            return
        named = batch.get("device", device)
        if named != device:
            self._reject(
                source,
                f"device {named!r} in the payload differs from {device!r} in the topic",
                payload,
                received,
            )
            return
        seq = batch.get("seq")
        sent_ms = batch.get("sent_ms", received)
        if type(seq) is not int or seq < 0:
            self._reject(source, f"seq {seq!r} must be a non-negative integer", payload, received)
            return
        if type(sent_ms) is not int:
            self._reject(source, f"sent_ms {sent_ms!r} must be integer epoch ms", payload, received)
            return
        if "readings" not in batch:
            self._reject(source, "missing field 'readings'", payload, received)
            return
        self.intake.accept(
            device=device,
            seq=seq,
            sent_ms=sent_ms,
            readings=batch["readings"],
            source=source,
            payload=payload,
            enterprise=enterprise,
            received_ms=received,
        )

    def _cems(
        self, enterprise: str, stack: str, source: str, payload: bytes, received: int
    ) -> None:
        with self._lock:
            self._stats["cems"] += 1
        head = payload[:1]
        try:
            if head == b"#":
                msg = hj212.decode(payload)
            elif head == b"{":
                msg = jsonform.loads(payload)
            else:
                raise hj212.Hj212Error(
                    f"neither HJ 212 text (starts with '##') nor its JSON form (starts with '{{'); "
                    f"starts with {payload[:16]!r}"
                )
            ts = msg.data_time_ms(self.config.tz_offset_min)
        except hj212.Hj212Error as exc:
            self._reject(source, f"HJ 212: {exc}", payload, received)
            return
        if msg.cn not in self.config.accept_cn:
            # hourly/daily values are derived from the minutes already ingested: not readings
            with self._lock:
                self._stats["other_cn"] += 1
            return
        known = self._stacks.get(stack)
        if known is not None:
            owner, mn, _species = known
            if owner != enterprise:
                self._reject(
                    source,
                    f"wrong enterprise in topic: stack {stack!r} belongs to {owner!r}, "
                    f"topic says {enterprise!r}",
                    payload,
                    received,
                )
                return
            if msg.mn != mn:
                self._reject(
                    source,
                    f"HJ 212 MN {msg.mn!r} does not match stack {stack!r} (MN {mn!r})",
                    payload,
                    received,
                )
                return
        expected_pw = self._pw.get(stack)
        if expected_pw is not None and not hmac.compare_digest(
            (msg.pw or "").encode(), expected_pw.encode()
        ):
            # never the given or the expected password in the reason
            self._reject(
                source,
                f"HJ 212 PW {'missing' if msg.pw is None else 'wrong'}: not the access password "
                f"registered for stack {stack!r}",
                payload,
                received,
            )
            return
        readings, problems = self._to_readings(stack, msg, ts)
        if problems:
            self._reject(
                source,
                f"stack {stack!r}, DataTime {msg.data_time}: " + "; ".join(problems),
                payload,
                received,
            )
        if readings:
            self.intake.accept(
                device=stack,
                seq=ts // 1000,
                sent_ms=received,
                readings=readings,
                source=source,
                payload=payload,
                enterprise=enterprise,
                received_ms=received,
            )

    def _to_readings(
        self, stack: str, msg: hj212.Hj212Message, ts: int
    ) -> tuple[list[dict[str, Any]], list[str]]:
        readings: list[dict[str, Any]] = []
        problems: list[str] = []
        for code, fields in msg.values.items():
            entry = self.codes.by_code.get(code)
            if entry is None or entry.species is None:
                if code not in self.config.ignore_codes:
                    problems.append(
                        f"factor code {code!r} is not in the HJ 212 code table "
                        f"(version {self.codes.version})"
                    )
                continue
            text = next((fields[f] for f in self.config.value_fields if f in fields), None)
            if text is None:
                wanted = "/".join(f"{code}-{f}" for f in self.config.value_fields)
                problems.append(f"{code} ({entry.species}) has no value field ({wanted})")
                continue
            try:
                value = float(text)
            except ValueError:
                problems.append(f"{code} ({entry.species}) value {text!r} is not a number")
                continue
            q = self.codes.quality(fields.get("Flag"))
            readings.append({"point": f"{stack}.{entry.species}", "ts": ts, "value": value, "q": q})
        return readings, problems
