"""The delivery policy an administrator sets in the database: inside networks allowed as
webhook targets (``console_target_allow``) and Kafka prefixes granted per enterprise
(``console_kafka_grants``). Read at subscription creation and before every poll's sends, so a
revoked grant stops deliveries without a restart."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import psycopg

from console.delivery.targets import Allow, check_kafka_topic

Conn = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Policy:
    allows: tuple[Allow, ...] = ()
    grants: dict[str | None, tuple[str, ...]] = field(default_factory=dict)
    park_topic: str = ""

    def kafka_topic(self, topic: str, enterprise: str | None) -> str:
        """Check a Kafka target; park-wide subscriptions may also use the park's downstream
        topic (``NENGTAN_CONSOLE_KAFKA_ALERTS_TOPIC``)."""
        if enterprise is None and self.park_topic and topic == self.park_topic:
            return topic
        return check_kafka_topic(topic, enterprise, self.grants.get(enterprise, ()))


def load_policy(conn: Conn, park_topic: str) -> Policy:
    allows = tuple(
        Allow(ipaddress.ip_network(str(r[0])), None if r[1] is None else int(r[1]))
        for r in conn.execute("SELECT network, port FROM console_target_allow ORDER BY id")
    )
    grants: dict[str | None, list[str]] = {}
    for ent, prefix in conn.execute(
        "SELECT enterprise, prefix FROM console_kafka_grants ORDER BY id"
    ):
        grants.setdefault(ent, []).append(str(prefix))
    return Policy(allows, {k: tuple(v) for k, v in grants.items()}, park_topic)
