"""Where a subscription may deliver to: the checks made when it is created and again before each
send, so a tenant cannot make the console write into the park's own topics or call services on
its private network (SSRF).

- webhook: the host name is resolved and every address must be public (not loopback, private,
  link-local, unique-local, multicast, unspecified, reserved, shared or documentation space;
  IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address they carry), unless
  a park administrator allow-listed its network. Numeric host forms (``2130706433``,
  ``0177.0.0.1``) resolve like any name, so they are judged by the address they reach. The
  sender connects to the address that was checked (no second lookup an attacker's DNS could
  answer differently), keeping the name for the Host header and TLS SNI/certificate check.
- e-mail: one plain ``local@domain`` address, nothing a header could be injected through.
- Kafka: a topic under ``nt.tenant.<enterprise>.`` or a prefix an administrator granted.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

TENANT_TOPIC_PREFIX = "nt.tenant."
# Kafka's own topics start with "__"; Faust/Kafka Streams state and repartition topics end so
_INTERNAL_SUFFIXES = ("-changelog", "-repartition")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
# RFC 5321 dot-atom local part and a DNS domain: no spaces, quotes, CR/LF or commas
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


class TargetRefused(ValueError):
    """A target the console will not deliver to; the message is safe to show the tenant."""


@dataclass(frozen=True, slots=True)
class Allow:
    """An inside network (and optionally one port) an administrator allows."""

    network: IPNetwork
    port: int | None = None


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A checked webhook: the URL to connect to (host replaced by the checked address), the
    original host name (Host header, SNI) and the address."""

    connect_url: httpx.URL
    host_header: str
    sni: str | None
    address: str


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, like a connect would use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr.sixtofour


def inside_kind(addr: IPAddress) -> str | None:
    """The kind of non-public address ``addr`` is (``loopback``, ``private``, ...), or None for
    a public one."""
    if isinstance(addr, ipaddress.IPv6Address):
        v4 = _embedded_v4(addr)
        if v4 is not None:
            return inside_kind(v4)
        if addr.is_site_local:
            return "site-local"
    for kind, hit in (
        ("unspecified", addr.is_unspecified),
        ("loopback", addr.is_loopback),
        ("link-local", addr.is_link_local),
        ("multicast", addr.is_multicast),
        ("private", addr.is_private),
        ("reserved", addr.is_reserved),
    ):
        if hit:
            return kind
    return None if addr.is_global else "non-public"


def _allowed(addr: IPAddress, port: int, allows: Iterable[Allow]) -> bool:
    candidates: list[IPAddress] = [addr]
    if isinstance(addr, ipaddress.IPv6Address) and (v4 := _embedded_v4(addr)) is not None:
        candidates.append(v4)
    return any(
        a.version == al.network.version and a in al.network and (al.port is None or al.port == port)
        for al in allows
        for a in candidates
    )


def check_address(address: str, port: int, allows: Iterable[Allow]) -> None:
    """Refuse one resolved address unless it is public or allow-listed."""
    try:
        addr = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as exc:
        raise TargetRefused("target host: not a usable address") from exc
    kind = inside_kind(addr)
    if kind is not None and not _allowed(addr, port, allows):
        raise TargetRefused(
            f"target host resolves to a {kind} address: not allowed unless a park administrator"
            " allow-lists it"
        )


def check_webhook(
    url: str, allows: Sequence[Allow], resolve: Resolver = system_resolver
) -> WebhookTarget:
    """Parse, resolve and check a webhook URL; raises ``TargetRefused``."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise TargetRefused("target: not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise TargetRefused("target: a webhook needs an http(s) URL")
    if parsed.userinfo:
        raise TargetRefused("target: credentials in the URL are not accepted (use the secret)")
    # the ASCII (punycode) form: what the resolver and the Host header take; no IDNA decoding
    host = parsed.raw_host.decode("ascii", "replace")
    if not host:
        raise TargetRefused("target: the URL has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, ValueError) as exc:  # ValueError: NUL or bad IDNA label in the name
        raise TargetRefused("target host: does not resolve") from exc
    if not addresses:
        raise TargetRefused("target host: does not resolve")
    for address in addresses:
        check_address(address, port, allows)
    address = addresses[0]
    connect = parsed.copy_with(host=address)
    host_header = host if parsed.port is None else f"{host}:{parsed.port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if parsed.port is None else f"[{host}]:{parsed.port}"
    sni = host if parsed.scheme == "https" else None
    return WebhookTarget(connect, host_header, sni, address)


def check_email(address: str) -> str:
    """One plain address (no display name, list, CR/LF or other header syntax)."""
    if len(address) > 254 or _EMAIL.fullmatch(address) is None:
        raise TargetRefused("target: not a plain e-mail address (local@domain)")
    return address


def tenant_prefix(enterprise: str | None) -> str | None:
    """The default Kafka prefix of an enterprise (park-wide subscriptions have none)."""
    return None if enterprise is None else f"{TENANT_TOPIC_PREFIX}{enterprise}."


def check_kafka_topic(topic: str, enterprise: str | None, granted: Iterable[str]) -> str:
    """A topic under the enterprise's own prefix or one granted to it."""
    if _TOPIC.fullmatch(topic) is None or topic in (".", ".."):
        raise TargetRefused("target: not a valid Kafka topic name")
    if topic.startswith("__") or topic.endswith(_INTERNAL_SUFFIXES):
        raise TargetRefused("target: an internal Kafka topic")
    prefixes = [p for p in (tenant_prefix(enterprise), *granted) if p]
    if not any(topic.startswith(p) and len(topic) > len(p) for p in prefixes):
        allowed = ", ".join(f"{p}*" for p in prefixes) or "none granted"
        raise TargetRefused(f"target: Kafka topic outside your prefixes ({allowed})")
    return topic
