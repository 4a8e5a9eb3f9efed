"""The MQTT adapter's message handling, broker-free: what lands in the spool for each input."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from adapters.mqtt.adapter import MqttAdapter
from adapters.mqtt.config import MqttConfig
from adapters.mqtt.hj212 import Hj212Message, encode
from adapters.mqtt.hj212.jsonform import dumps as hj_json
from adapters.mqtt.hj212.message import format_data_time
from ingest.intake import Intake
from ingest.park.models import Park
from ingest.publisher import Publisher
from ingest.validate import Validator

TOPIC = "nt/v1/ent1/gw1/readings"
CEMS = "nt/v1/ent1/cems/stk1"
Sent = Callable[[], tuple[list[Any], list[Any]]]


@pytest.fixture
def adapter(tiny_park: Park, publisher: Publisher) -> MqttAdapter:
    return MqttAdapter(MqttConfig(), Intake(Validator.for_park(tiny_park), publisher), tiny_park)


def _now() -> int:
    return time.time_ns() // 1_000_000


def _batch(**over: Any) -> bytes:
    ts = _now() - 1000
    obj: dict[str, Any] = {
        "schema": "nt.readings/1",
        "device": "gw1",
        "seq": 7,
        "sent_ms": ts + 500,
        "readings": [
            {"point": "p.kwh", "ts": ts, "value": 100.5},
            {"point": "p.kw", "ts": ts, "value": 20.0, "uom": "kW"},
        ],
    }
    obj.update(over)
    return json.dumps(obj).encode()


def test_good_batch_is_republished_whole(adapter: MqttAdapter, sent: Sent) -> None:
    payload = _batch()
    adapter.handle(TOPIC, payload)
    batches, dlq = sent()
    assert dlq == []
    [batch] = batches
    src = json.loads(payload)
    assert batch["_key"] == "gw1"
    assert (batch["schema"], batch["device"], batch["seq"], batch["sent_ms"]) == (
        "nt.readings/1",
        "gw1",
        7,
        src["sent_ms"],
    )
    assert [(r["point"], r["ts"], r["value"], r["q"]) for r in batch["readings"]] == [
        ("p.kwh", src["readings"][0]["ts"], 100.5, "good"),
        ("p.kw", src["readings"][0]["ts"], 20.0, "good"),
    ]


def _dlq_reason(adapter: MqttAdapter, sent: Sent, topic: str, payload: bytes) -> str:
    adapter.handle(topic, payload)
    _batches, dlq = sent()
    assert len(dlq) == 1
    assert base64.b64decode(dlq[0]["payload_b64"]) == payload  # whole payload kept
    assert dlq[0]["source"] == f"mqtt:{topic}"
    return str(dlq[0]["reason"])


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TOPIC, b'{"device": "gw1", "seq": 1,', "malformed JSON: Expecting"),
        (TOPIC, b"[1, 2]", "expected a JSON object (a reading batch), got list"),
        (TOPIC, _batch(schema="x/2"), "schema 'x/2' is not 'nt.readings/1'"),
        (
            TOPIC,
            _batch(device="gw9"),
            "device 'gw9' in the payload differs from 'gw1' in the topic",
        ),
        (TOPIC, _batch(seq=-1), "seq -1 must be a non-negative integer"),
        (
            "nt/v1/ent2/gw1/readings",
            _batch(),
            "wrong enterprise in topic: device 'gw1' belongs to enterprise 'ent1', topic says 'ent2'",
        ),
        ("nt/v1/ent1/gw9/readings", _batch(device="gw9"), "unknown device 'gw9'"),
        ("nt/v1/ent1/gw1/other", _batch(), "expected .../readings or .../cems/{stack}"),
        ("bad/topic", b"{}", "is not nt/v1/{enterprise}/..."),
    ],
)
def test_rejected_inputs_get_one_dlq_record(
    adapter: MqttAdapter, sent: Sent, topic: str, payload: bytes, reason: str
) -> None:
    assert reason in _dlq_reason(adapter, sent, topic, payload)


def test_bad_readings_go_to_dlq_and_good_ones_through(adapter: MqttAdapter, sent: Sent) -> None:
    ts = _now() - 1000
    payload = _batch(
        readings=[
            {"point": "p.kwh", "ts": ts, "value": 1.0},
            {"point": "p.kwh", "ts": ts + 1, "value": float("nan")},
            {"point": "p.ghost", "ts": ts, "value": 1.0},
            {"point": "p.kw", "ts": ts, "value": 1.0, "uom": "MW"},
        ]
    )
    adapter.handle(TOPIC, payload)
    batches, dlq = sent()
    assert [r["point"] for r in batches[0]["readings"]] == ["p.kwh"]
    [letter] = dlq
    reason = letter["reason"]
    assert reason.startswith("device 'gw1': 3 of 4 readings rejected: ")
    assert "reading[1] point 'p.kwh': value is nan (must be finite)" in reason
    assert "reading[2]: unknown point 'p.ghost'" in reason
    assert "reading[3] point 'p.kw': unit 'MW' does not match the point's unit 'kW'" in reason
    assert base64.b64decode(letter["payload_b64"]) == payload


def test_ten_megabyte_payload_is_one_whole_dlq_record(
    adapter: MqttAdapter, sent: Sent, publisher: Publisher
) -> None:
    payload = b"x" * (10 * 1024 * 1024)
    adapter.handle(TOPIC, payload)
    batches, dlq = sent()
    assert batches == []
    [letter] = dlq
    assert letter["reason"].startswith("malformed JSON: ")
    assert "truncated" not in letter["reason"]
    assert base64.b64decode(letter["payload_b64"]) == payload
    assert not publisher.dead_letters.quarantine_dir.exists()  # nothing needed the disk


def _minute(ts_ms: int, **values: dict[str, str]) -> Hj212Message:
    return Hj212Message(
        st="31",
        cn="2051",
        mn="MN0001",
        qn="1",
        pw="123456",
        flag=4,
        data_time=format_data_time(ts_ms),
        values=values,
    )


def _minute_ts() -> int:
    return (_now() // 60_000 - 1) * 60_000


def test_hj212_minute_becomes_one_batch(adapter: MqttAdapter, sent: Sent) -> None:
    ts = _minute_ts()
    msg = _minute(
        ts,
        a05001={"Avg": "9.5", "Flag": "N"},
        a21026={"Avg": "12.25", "Min": "10", "Max": "14", "Flag": "N"},
        a00000={"Avg": "16000", "Flag": "C"},
    )
    adapter.handle(CEMS, encode(msg))
    batches, dlq = sent()
    assert dlq == []
    [batch] = batches
    assert batch["device"] == "stk1" and batch["_key"] == "stk1"
    assert batch["seq"] == ts // 1000
    assert [(r["point"], r["ts"], r["value"], r["q"]) for r in batch["readings"]] == [
        ("stk1.co2", ts, 9.5, "good"),
        ("stk1.so2", ts, 12.25, "good"),
        ("stk1.flow", ts, 16000.0, "bad"),  # flag C (calibration): kept, never accounted
    ]


def test_hj212_json_form_is_read_the_same(adapter: MqttAdapter, sent: Sent) -> None:
    ts = _minute_ts()
    msg = _minute(ts, a05001={"Avg": "9.5", "Flag": "N"})
    adapter.handle(CEMS, hj_json(msg))
    batches, dlq = sent()
    assert dlq == []
    assert batches[0]["readings"] == [{"point": "stk1.co2", "ts": ts, "value": 9.5, "q": "good"}]


def test_hj212_bad_crc_is_rejected_with_expected_and_got(adapter: MqttAdapter, sent: Sent) -> None:
    packet = encode(_minute(_minute_ts(), a05001={"Avg": "9.5", "Flag": "N"}))
    broken = packet[:-6] + (b"0000" if packet[-6:-2] != b"0000" else b"FFFF") + b"\r\n"
    reason = _dlq_reason(adapter, sent, CEMS, broken)
    assert reason.startswith("HJ 212: bad CRC: expected ")
    assert f"expected {packet[-6:-2].decode()}, got" in reason


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (
            lambda ts: _minute(ts, a99999={"Avg": "1"}),
            "factor code 'a99999' is not in the HJ 212 code table",
        ),
        (
            lambda ts: _minute(ts, a05001={"Min": "1"}),
            "a05001 (co2) has no value field (a05001-Rtd/a05001-Avg)",
        ),
        (lambda ts: _minute(ts, a21002={"Avg": "1"}), "unknown point 'stk1.nox'"),
    ],
)
def test_cems_problems(adapter: MqttAdapter, sent: Sent, build: Any, reason: str) -> None:
    adapter.handle(CEMS, encode(build(_minute_ts())))
    _batches, dlq = sent()
    assert len(dlq) == 1
    assert reason in dlq[0]["reason"]


def test_cems_mn_and_enterprise_checked(adapter: MqttAdapter, sent: Sent) -> None:
    msg = _minute(_minute_ts(), a05001={"Avg": "9.5", "Flag": "N"})
    wrong_mn = encode(
        Hj212Message(st="31", cn="2051", mn="MN9", data_time=msg.data_time, values=msg.values)
    )
    assert "HJ 212 MN 'MN9' does not match stack 'stk1' (MN 'MN0001')" in _dlq_reason(
        adapter, sent, CEMS, wrong_mn
    )
    assert "stack 'stk1' belongs to 'ent1', topic says 'ent2'" in _dlq_reason(
        adapter, sent, "nt/v1/ent2/cems/stk1", encode(msg)
    )


def test_cems_garbage_is_named(adapter: MqttAdapter, sent: Sent) -> None:
    reason = _dlq_reason(adapter, sent, CEMS, b"hello")
    assert "neither HJ 212 text" in reason and "b'hello'" in reason


class _Msg:
    def __init__(self, topic: str, payload: bytes) -> None:
        self.topic, self.payload, self.mid, self.qos = topic, payload, 7, 1


class _Client:
    def __init__(self) -> None:
        self.acks: list[int] = []

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append(mid)


def test_message_is_acknowledged_only_once_spooled(tiny_park: Park, tmp_path: Any) -> None:
    pub = Publisher("127.0.0.1:1", tmp_path, max_spool_bytes=300)
    adapter = MqttAdapter(MqttConfig(), Intake(Validator.for_park(tiny_park), pub), tiny_park)
    client = _Client()
    adapter._on_message(client, None, _Msg(TOPIC, _batch()))  # fits: stored, then acked
    assert client.acks == [7]
    adapter._on_message(client, None, _Msg(TOPIC, _batch()))  # spool full: not acked
    assert client.acks == [7]
    assert adapter.status()["unacked"] == 1
    assert adapter.intake.snapshot().dropped == 1
    pub.close()


def test_hourly_data_is_counted_not_ingested(adapter: MqttAdapter, sent: Sent) -> None:
    hour = Hj212Message(
        st="31",
        cn="2061",
        mn="MN0001",
        data_time=format_data_time(_minute_ts()),
        values={"a05001": {"Avg": "9.5", "Flag": "N"}},
    )
    adapter.handle(CEMS, encode(hour))
    assert sent() == ([], [])
    assert adapter.status()["other_cn"] == 1


def test_a_reconnect_without_the_session_is_counted_and_logged(
    adapter: MqttAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    """The first connect of a new client id has no session; a later one must find it."""
    from paho.mqtt.client import ConnectFlags

    class Client:
        def subscribe(self, _topics: Any) -> None:
            pass

    adapter._on_connect(Client(), None, ConnectFlags(session_present=False), None, None)
    adapter._on_connect(Client(), None, ConnectFlags(session_present=True), None, None)
    assert adapter.status()["sessions_lost"] == 0
    adapter._on_connect(Client(), None, ConnectFlags(session_present=False), None, None)
    assert adapter.status()["sessions_lost"] == 1
    assert "had no session for client" in caplog.text


def _pw_adapter(publisher: Publisher, raw: dict[str, Any], **stack_fields: str) -> MqttAdapter:
    from ingest.park.loader import parse_park

    stack = next(s for e in raw["enterprises"] for s in e.get("stacks", []) if s["id"] == "stk1")
    stack.update(stack_fields)
    park = parse_park(raw, "tiny-pw")
    return MqttAdapter(MqttConfig(), Intake(Validator.for_park(park), publisher), park)


@pytest.mark.parametrize("where", ["pw", "pw_env"])
def test_hj212_pw_checked_per_stack(
    publisher: Publisher,
    tiny_park_raw: dict[str, Any],
    sent: Sent,
    where: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stack with a PW in the park takes only messages carrying it; the DLQ reason says the
    PW was wrong or missing but never shows the given or the expected one."""
    monkeypatch.setenv("NT_TEST_STK1_PW", "s3cret-Pw")
    fields = {"pw": "s3cret-Pw"} if where == "pw" else {"pw_env": "NT_TEST_STK1_PW"}
    adapter = _pw_adapter(publisher, tiny_park_raw, **fields)
    msg = _minute(_minute_ts(), a05001={"Avg": "9.5", "Flag": "N"})
    good = encode(dataclasses.replace(msg, pw="s3cret-Pw"))
    adapter.handle(CEMS, good)
    batches, dlq = sent()
    assert len(batches) == 1 and dlq == []
    wrong = _dlq_reason(adapter, sent, CEMS, encode(msg))  # the factory default 123456
    assert wrong == "HJ 212 PW wrong: not the access password registered for stack 'stk1'"
    assert "123456" not in wrong and "s3cret" not in wrong
    missing = _dlq_reason(adapter, sent, CEMS, encode(dataclasses.replace(msg, pw=None)))
    assert missing.startswith("HJ 212 PW missing")
    assert sent() == ([], [])


def test_hj212_pw_env_unset_is_a_config_error(
    publisher: Publisher, tiny_park_raw: dict[str, Any]
) -> None:
    from nengtan.errors import ConfigError

    with pytest.raises(ConfigError, match="pw_env NT_TEST_UNSET_PW is not set"):
        _pw_adapter(publisher, tiny_park_raw, pw_env="NT_TEST_UNSET_PW")
    with pytest.raises(ConfigError, match="give pw or pw_env, not both"):
        _pw_adapter(publisher, tiny_park_raw, pw="x", pw_env="NT_TEST_UNSET_PW")


def test_stack_without_pw_takes_any(adapter: MqttAdapter, sent: Sent) -> None:
    msg = _minute(_minute_ts(), a05001={"Avg": "9.5", "Flag": "N"})
    adapter.handle(CEMS, encode(dataclasses.replace(msg, pw="anything")))
    batches, dlq = sent()
    assert len(batches) == 1 and dlq == []
