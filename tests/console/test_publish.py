"""The vendor HTTP path validates like the field adapters: each bad reading is refused with a
reason in the answer, never reaches ``nt.readings.v1``, and the input lands whole in the DLQ."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from consolekit import ConsoleEnv
from kafka_read import read_topic

from ingest.contract import TOPIC_DLQ, TOPIC_READINGS

pytestmark = pytest.mark.integration

DEVICE = "acme-m1"  # acme-m1 carries acme.grid.kwh (kWh counter) and acme.grid.v_l1 (V gauge)


def now() -> int:
    return time.time_ns() // 1_000_000


def batch(*readings: dict[str, Any], device: str = DEVICE) -> dict[str, Any]:
    return {"device": device, "seq": 1, "sent_ms": now(), "readings": list(readings)}


def raw(marker: str, value: str, *, point: str = "acme.grid.v_l1", ts: str = "") -> bytes:
    """A batch as JSON text with ``value`` (and ``ts``) written literally (NaN, "1.5", true),
    tagged by ``marker`` in its seq so the DLQ record can be found."""
    seq = int(uuid.UUID(marker)) % 10**12
    return (
        f'{{"device": "{DEVICE}", "seq": {seq}, "sent_ms": {now()}, "readings": ['
        f'{{"point": "{point}", "ts": {ts or now()}, "value": {value}}}]}}'
    ).encode()


BAD = {
    "nan": ("NaN", "", "acme.grid.v_l1", "finite"),
    "infinity": ("Infinity", "", "acme.grid.v_l1", "finite"),
    "string": ('"1.5"', "", "acme.grid.v_l1", "not a number"),
    "boolean": ("true", "", "acme.grid.v_l1", "not a number"),
    "year_3000": ("230.0", "32503680000000", "acme.grid.v_l1", "in the future"),
    "before_1970": ("230.0", "-1000", "acme.grid.v_l1", "in the past"),
    "string_ts": ("230.0", '"2026-01-01"', "acme.grid.v_l1", "not integer epoch ms"),
    "huge_volts": ("1e308", "", "acme.grid.v_l1", "plausible range"),
    "other_device": ("5.0", "", "acme.synth.kwh", "belongs to 'acme-m2'"),
    "manual_only": ("5.0", "", "acme.manual.diesel", "belongs to ''"),
    "other_enterprise": ("5.0", "", "hengli.grid.kwh", "unknown point"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_reading_is_refused_and_dead_lettered(
    client: Any, console_env: ConsoleEnv, case: str
) -> None:
    value, ts, point, why = BAD[case]
    marker = str(uuid.uuid4())
    body = raw(marker, value, point=point, ts=ts)
    h = {**console_env.auth("vendor"), "Content-Type": "application/json"}
    resp = client.post("/api/v1/readings", content=body, headers=h)
    assert resp.status_code == 422, resp.text
    answer = resp.json()
    assert answer["accepted"] == 0 and answer["rejected"] == 1
    assert why in answer["problems"][0], answer
    letters = read_topic(
        console_env.settings.bootstrap,
        TOPIC_DLQ,
        key_prefix="http:vendor",
        until=lambda rs: any(base64.b64decode(r["payload_b64"]) == body for r in rs),
        timeout_s=20,
    )
    mine = [r for r in letters if base64.b64decode(r["payload_b64"]) == body]
    assert len(mine) == 1, "the rejected input is dead-lettered whole, once"
    assert why in mine[0]["reason"]


def test_partly_bad_batch_publishes_the_good_and_reports_the_rest(
    client: Any, console_env: ConsoleEnv
) -> None:
    seq = int(uuid.uuid4()) % 10**12
    good = {"point": "acme.grid.v_l1", "ts": now(), "value": 231.5}
    body = {**batch(good, {"point": "acme.grid.v_l1", "ts": now(), "value": "2"}), "seq": seq}
    resp = client.post("/api/v1/readings", json=body, headers=console_env.auth("vendor"))
    assert resp.status_code == 207, resp.text
    assert resp.json()["accepted"] == 1 and resp.json()["rejected"] == 1
    assert "reading[1]" in resp.json()["problems"][0]
    published = read_topic(
        console_env.settings.bootstrap,
        TOPIC_READINGS,
        key_prefix=DEVICE,
        until=lambda rs: any(r.get("seq") == seq for r in rs),
        timeout_s=20,
    )
    mine = [r for r in published if r.get("seq") == seq]
    assert len(mine) == 1 and mine[0]["readings"] == [{**good, "q": "good"}]


def test_good_batch_is_accepted(client: Any, console_env: ConsoleEnv) -> None:
    body = batch({"point": "acme.grid.v_l1", "ts": now(), "value": 229.0, "uom": "V"})
    resp = client.post("/api/v1/readings", json=body, headers=console_env.auth("vendor"))
    assert resp.status_code == 202, resp.text
    assert resp.json()["accepted"] == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"device": DEVICE, "seq": "1", "sent_ms": 0, "readings": []}).encode(),
        json.dumps({"device": DEVICE, "seq": 1, "sent_ms": True, "readings": []}).encode(),
        json.dumps({"device": DEVICE, "seq": 1, "sent_ms": 0}).encode(),
    ],
)
def test_not_a_batch_is_refused_with_a_reason(
    client: Any, console_env: ConsoleEnv, body: bytes
) -> None:
    h = {**console_env.auth("vendor"), "Content-Type": "application/json"}
    resp = client.post("/api/v1/readings", content=body, headers=h)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"]


def test_large_value_is_not_echoed(client: Any, console_env: ConsoleEnv) -> None:
    huge = "x" * 1_000_000
    body = batch({"point": huge, "ts": now(), "value": 1.0})
    resp = client.post("/api/v1/readings", json=body, headers=console_env.auth("vendor"))
    assert resp.status_code == 422
    assert len(resp.content) < 10_000


def test_body_above_the_limit_is_refused(client: Any, console_env: ConsoleEnv) -> None:
    limit = console_env.console_settings.max_body_bytes
    body = b'{"device": "acme-m1", "pad": "' + b"x" * limit + b'"}'
    h = {**console_env.auth("vendor"), "Content-Type": "application/json"}
    resp = client.post("/api/v1/readings", content=body, headers=h)
    assert resp.status_code == 413
    assert len(resp.content) < 1_000
