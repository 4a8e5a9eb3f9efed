"""The simulators' MQTT clients: one per enterprise with its gateway login when the broker wants
logins, one anonymous client otherwise; each topic goes out on its enterprise's client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ingest.park import parse_park
from nengtan.mqttauth import Login
from simulators.faults import FaultPlan
from simulators.mqtt_publishers import CemsPublisher, GatewayPublisher, MqttOut


def test_one_client_per_enterprise_with_its_login(park_doc: Callable[..., dict[str, Any]]) -> None:
    park = parse_park(park_doc())
    ix = park.index
    enterprises = sorted(set(ix.device_enterprise.values()) | set(ix.stack_enterprise.values()))
    logins: dict[str, Login | None] = {e: Login(f"gw-{e}", f"pw-{e}") for e in enterprises}
    out = MqttOut("127.0.0.1", 1, logins=logins)
    plan = FaultPlan.build(park, 0)
    GatewayPublisher(ix, plan, out, lambda _e: None)
    CemsPublisher(ix, plan, out, lambda _e: None)
    assert set(out.clients) == set(enterprises)
    assert {e: c.username for e, c in out.clients.items()} == {e: f"gw-{e}" for e in enterprises}
    for sid in ix.stacks:
        ent = ix.stack_enterprise[sid]
        assert out.owner[f"nt/v1/{ent}/cems/{sid}"] == ent
    used: list[tuple[str, str]] = []
    for ent, client in out.clients.items():
        client.publish = lambda t, _p, qos, e=ent: used.append((e, t))  # type: ignore[method-assign,misc]
    for topic in out.owner:
        out.publish(topic, b"x")
    assert used == list((e, t) for t, e in out.owner.items())


def test_anonymous_when_no_logins(park_doc: Callable[..., dict[str, Any]]) -> None:
    assert list(MqttOut("127.0.0.1", 1).clients) == [""]
    out = MqttOut("127.0.0.1", 1, logins={"acme": None, "hengli": None})
    assert list(out.clients) == [""] and out.clients[""].username is None
