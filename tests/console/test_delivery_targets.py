"""Subscription targets that must not reach inside (pure checks, no services): every
non-public IPv4/IPv6 range, IPv4 carried in IPv6, numeric host forms, names resolving inside,
e-mail header injection, Kafka topics outside the tenant's prefix; and the send-time re-check
(a name that resolved to a public address when the subscription was made and to loopback when
the alert is sent: DNS rebinding)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from receivers import webhook_receiver

from console.delivery import targets
from console.delivery.channels import SendError, Senders
from console.delivery.match import Subscription
from console.delivery.policy import Policy
from console.delivery.targets import Allow, TargetRefused
from console.settings import load_console_settings

INSIDE = [
    "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.1.2.3", "240.0.0.1", "255.255.255.255",
    "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
    "::ffff:127.0.0.1", "::ffff:10.1.2.3", "64:ff9b::7f00:1", "2002:7f00:1::1", "2001:db8::1",
]  # fmt: skip
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


def resolver(table: dict[str, list[str]]) -> Any:
    def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        raise socket.gaierror(f"{host}: unknown")

    return resolve


@pytest.mark.parametrize("address", INSIDE)
def test_inside_addresses_refused(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(TargetRefused, match="not allowed"):
        targets.check_webhook(f"http://{host}:5433/x", [])


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_accepted(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    got = targets.check_webhook(f"https://{host}/hook", [])
    assert got.address == address


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.1", "127.1", "localhost"])
def test_numeric_forms_and_local_names_judged_by_their_address(host: str) -> None:
    """The system resolver turns decimal, octal and short forms (and /etc/hosts names) into
    loopback addresses; they are refused like ``127.0.0.1`` (or as not a URL at all, where the
    URL parser already rejects the form)."""
    with pytest.raises(TargetRefused, match=r"loopback|not a valid URL"):
        targets.check_webhook(f"http://{host}:8080/", [])


def test_a_name_resolving_inside_is_refused_even_with_a_public_address_too() -> None:
    resolve = resolver({"mixed.example": ["8.8.8.8", "10.0.0.7"]})
    with pytest.raises(TargetRefused, match="private"):
        targets.check_webhook("https://mixed.example/", [], resolve)


def test_allow_list_admits_a_network_and_port() -> None:
    allows = [Allow(targets.ipaddress.ip_network("127.0.0.1/32"), 8080)]
    assert targets.check_webhook("http://127.0.0.1:8080/", allows).address == "127.0.0.1"
    with pytest.raises(TargetRefused):
        targets.check_webhook("http://127.0.0.1:5433/", allows)
    # the IPv4-mapped form of an allowed address is the same address
    assert targets.check_webhook("http://[::ffff:127.0.0.1]:8080/", allows)


def test_webhook_url_forms_refused() -> None:
    for url in ("ftp://8.8.8.8/", "http://user:pw@8.8.8.8/", "http:///x", "not a url"):
        with pytest.raises(TargetRefused):
            targets.check_webhook(url, [], resolver({}))
    with pytest.raises(TargetRefused, match="does not resolve"):
        targets.check_webhook("https://nowhere.invalid/", [], resolver({}))


@pytest.mark.parametrize(
    "address",
    ["ops@acme.example\r\nBcc: all@evil.example", "ops@acme.example\n", "a@b.example, c@d.example",
     "Ops <ops@acme.example>", "ops@acme", "@acme.example", "ops@acme.example\rX: y", ""],
)  # fmt: skip
def test_email_header_injection_refused(address: str) -> None:
    with pytest.raises(TargetRefused):
        targets.check_email(address)


def test_plain_email_accepted() -> None:
    assert (
        targets.check_email("ops.team+alerts@acme.example.cn") == "ops.team+alerts@acme.example.cn"
    )


@pytest.mark.parametrize(
    "topic",
    ["nt.readings.v1", "nt.alerts.v1", "nengtan-streams-window-changelog", "__consumer_offsets",
     "nt.tenant.hengli.alerts", "nt.tenant.acme.", "nt.tenant.acme.x-changelog",
     "nt.tenant.acme.a b", "nt.tenant.acmex.alerts"],
)  # fmt: skip
def test_kafka_topics_outside_the_tenant_refused(topic: str) -> None:
    with pytest.raises(TargetRefused):
        Policy(park_topic="nt.alerts.out.v1").kafka_topic(topic, "acme")


def test_kafka_topics_of_the_tenant_and_granted_prefixes() -> None:
    policy = Policy(grants={"acme": ("erp.acme.",)}, park_topic="nt.alerts.out.v1")
    assert policy.kafka_topic("nt.tenant.acme.alerts", "acme") == "nt.tenant.acme.alerts"
    assert policy.kafka_topic("erp.acme.alarms", "acme") == "erp.acme.alarms"
    with pytest.raises(TargetRefused):
        policy.kafka_topic("erp.acme.alarms", "hengli")
    with pytest.raises(TargetRefused):
        policy.kafka_topic("nt.alerts.out.v1", "acme")  # the park's topic is not a tenant's
    assert policy.kafka_topic("nt.alerts.out.v1", None) == "nt.alerts.out.v1"


def _sub(target: str) -> Subscription:
    return Subscription(7, "acme", None, None, None, None, "webhook", target, "s" * 32)


ALERT = {"alert_id": "a:1", "rule_id": "r", "state": "raised", "severity": "major",
         "scope": "enterprise:acme", "metric": "co2e_t", "value": 1.0, "threshold": 0.5,
         "window": "1h", "ts": 0}  # fmt: skip


def test_rebinding_is_caught_at_send_time() -> None:
    """hooks.example resolved to a public address when the subscription was made; when the
    alert is sent it resolves to loopback: nothing is sent, the delivery is refused."""
    table = {"hooks.example": ["93.184.215.14"]}
    resolve = resolver(table)
    targets.check_webhook("http://hooks.example:8080/in", [], resolve)  # creation: accepted
    with webhook_receiver() as (url, got):
        port = int(url.rsplit(":", 1)[1])
        table["hooks.example"] = ["127.0.0.1"]  # the attacker's DNS answers differently now
        senders = Senders(load_console_settings(), "", ("127.0.0.1", 1), "park", resolve)
        try:
            with pytest.raises(SendError) as info:
                senders.send(_sub(f"http://hooks.example:{port}/ok"), ALERT, "acme", "k")
        finally:
            senders.close()
        assert info.value.category == "target refused" and not info.value.retry
        assert got.requests == []


def test_send_connects_to_the_checked_address_with_the_name_as_host() -> None:
    """An allow-listed inside receiver reached through a name: the request goes to the address
    the check saw, and the receiver sees the name in the Host header."""
    with webhook_receiver() as (url, got):
        port = int(url.rsplit(":", 1)[1])
        senders = Senders(load_console_settings(), "", ("127.0.0.1", 1), "park",
                          resolver({"hooks.example": ["127.0.0.1"]}))  # fmt: skip
        senders.policy = Policy(allows=(Allow(targets.ipaddress.ip_network("127.0.0.1/32")),))
        try:
            senders.send(_sub(f"http://hooks.example:{port}/ok"), ALERT, "acme", "k")
        finally:
            senders.close()
        assert len(got.requests) == 1
        assert got.requests[0][1]["Host"] == f"hooks.example:{port}"


def test_raw_errors_become_categories() -> None:
    """A closed port on an allow-listed address: the tenant-facing category is short, the raw
    text (addresses, errno) stays in the exception message for the log."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    senders = Senders(load_console_settings(webhook_timeout_s=2), "", ("127.0.0.1", 1), "park")
    senders.policy = Policy(allows=(Allow(targets.ipaddress.ip_network("127.0.0.0/8")),))
    try:
        with pytest.raises(SendError) as info:
            senders.send(_sub(f"http://127.0.0.1:{port}/x"), ALERT, "acme", "k")
    finally:
        senders.close()
    assert info.value.category == "connection refused"
