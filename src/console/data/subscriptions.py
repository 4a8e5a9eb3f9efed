"""Alert subscriptions (filters and a channel) and their delivery ledger, in the caller's scope.

An enterprise user's subscription always carries their enterprise (asking for another is
refused); a subscription with no enterprise (every enterprise and park-wide alerts) is for
park administrators. Webhook secrets are write-only: returned once at creation, never listed.

Targets are checked here and again before every send (``console.delivery.targets``): webhooks
must resolve to public addresses unless allow-listed, e-mail targets are one plain address,
Kafka topics lie under the enterprise's prefix or one granted to it, and MQTT subscriptions
publish only on the enterprise's own alert topics (no target). Each subscription shows its
health (``ok``/``failing``, the last error's category, the next attempt).
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from console.auth import Scope, filter_sql
from console.data import Conn, Row, dt_to_ms, fetch
from console.delivery.policy import load_policy
from console.delivery.targets import (
    Resolver,
    TargetRefused,
    check_email,
    check_webhook,
    system_resolver,
    tenant_prefix,
)
from console.errors import BadRequest, Forbidden, NotFound

CHANNELS = ("webhook", "mqtt", "email", "kafka")
_COLS = (
    "id, owner, enterprise, stack, severities, rule_id, metric, channel, target, created_at,"
    " health, failures, last_error, next_attempt_at"
)


def _shape(r: Row) -> Row:
    r["created_ms"] = dt_to_ms(r.pop("created_at"))
    nxt = r.pop("next_attempt_at")
    r["next_attempt_ms"] = None if nxt is None else dt_to_ms(nxt)
    return r


def _target(
    conn: Conn, channel: str, target: str, enterprise: str | None, park_topic: str,
    resolve: Resolver,
) -> str:  # fmt: skip
    policy = load_policy(conn, park_topic)
    try:
        if channel == "webhook":
            check_webhook(target, policy.allows, resolve)
        elif channel == "email":
            check_email(target)
        elif channel == "kafka":
            if not target:
                prefix = tenant_prefix(enterprise)
                target = park_topic if prefix is None else f"{prefix}alerts"
            policy.kafka_topic(target, enterprise)
        elif channel == "mqtt" and target:
            raise TargetRefused(
                "target: MQTT subscriptions publish on nt/v1/alerts/<enterprise>/<severity>;"
                " leave the target empty"
            )
    except TargetRefused as exc:
        raise BadRequest(str(exc)) from None
    return target


def create(
    conn: Conn,
    scope: Scope,
    spec: dict[str, Any],
    default_topic: str,
    resolve: Resolver = system_resolver,
) -> Row:
    """Store a subscription; ``spec`` has the filters, ``channel`` and ``target``.
    ``default_topic`` is the park's downstream topic (park-wide Kafka subscriptions)."""
    enterprise = spec.get("enterprise")
    if not scope.sees_all:
        if enterprise is None:
            enterprise = scope.enterprise
        if enterprise != scope.enterprise:
            raise Forbidden(f"enterprise {enterprise!r}: outside your scope")
    channel = spec["channel"]
    if channel not in CHANNELS:
        raise BadRequest(f"channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    target = _target(conn, channel, spec.get("target") or "", enterprise, default_topic, resolve)
    stack = spec.get("stack")
    if stack is not None:
        row = conn.execute(
            f"SELECT enterprise FROM console_stacks WHERE id = %(s)s AND {filter_sql('enterprise')}",
            {**scope.params(), "s": stack},
        ).fetchone()
        if row is None:
            raise Forbidden(f"stack {stack!r}: not in your scope")
    secret = spec.get("secret") or (secrets.token_urlsafe(32) if channel == "webhook" else None)
    row2 = fetch(
        conn,
        "INSERT INTO console_subscriptions (owner, enterprise, stack, severities, rule_id, metric,"
        " channel, target, secret) VALUES (%(owner)s, %(ent)s, %(stack)s, %(sev)s, %(rule)s,"
        f" %(metric)s, %(channel)s, %(target)s, %(secret)s) RETURNING {_COLS}",
        {
            "owner": scope.name,
            "ent": enterprise,
            "stack": stack,
            "sev": spec.get("severities") or None,
            "rule": spec.get("rule_id"),
            "metric": spec.get("metric"),
            "channel": channel,
            "target": target,
            "secret": secret,
        },
    )[0]
    out = _shape(row2)
    out["secret"] = secret
    return out


def _in_scope() -> str:
    # park-wide subscriptions (enterprise NULL) are visible to park-wide roles only
    return f"deleted_at IS NULL AND {filter_sql('enterprise')}"


def list_(conn: Conn, scope: Scope) -> list[Row]:
    return [
        _shape(r)
        for r in fetch(
            conn,
            f"SELECT {_COLS} FROM console_subscriptions WHERE {_in_scope()} ORDER BY id",
            scope.params(),
        )
    ]


def get(conn: Conn, scope: Scope, sub_id: int) -> Row:
    rows = fetch(
        conn,
        f"SELECT {_COLS} FROM console_subscriptions WHERE id = %(id)s AND {_in_scope()}",
        {**scope.params(), "id": sub_id},
    )
    if not rows:
        raise NotFound(f"subscription {sub_id}: not found")
    return _shape(rows[0])


def delete(conn: Conn, scope: Scope, sub_id: int) -> None:
    """Soft delete (the ledger keeps referring to it)."""
    cur = conn.execute(
        f"UPDATE console_subscriptions SET deleted_at = now() WHERE id = %(id)s AND {_in_scope()}",
        {**scope.params(), "id": sub_id},
    )
    if cur.rowcount != 1:
        raise NotFound(f"subscription {sub_id}: not found")


def deliveries(
    conn: Conn,
    scope: Scope,
    sub_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Row]:
    """Ledger rows of the subscriptions in scope (newest first)."""
    rows = fetch(
        conn,
        "SELECT d.subscription_id, d.alert_id, d.state, d.status, d.attempts, d.last_error,"
        " d.created_at, d.updated_at FROM console_deliveries d"
        " JOIN console_subscriptions s ON s.id = d.subscription_id"
        f" WHERE {filter_sql('s.enterprise')}"
        " AND (%(sub)s::bigint IS NULL OR d.subscription_id = %(sub)s)"
        " AND (%(status)s::text IS NULL OR d.status = %(status)s)"
        " ORDER BY d.updated_at DESC LIMIT %(limit)s",
        {**scope.params(), "sub": sub_id, "status": status, "limit": limit},
    )
    for r in rows:
        r["created_ms"] = dt_to_ms(r.pop("created_at"))
        r["updated_ms"] = dt_to_ms(r.pop("updated_at"))
    return rows


def _admin(scope: Scope) -> None:
    if scope.role != "admin":
        raise Forbidden("the delivery policy is set by park administrators")


def allow_list(conn: Conn, scope: Scope) -> list[Row]:
    """Inside networks allowed as webhook targets (administrators and auditors read it)."""
    if not scope.sees_all:
        raise Forbidden("the delivery policy is visible to park administrators and auditors")
    rows = fetch(
        conn,
        "SELECT id, network::text AS network, port, note, granted_by, created_at"
        " FROM console_target_allow ORDER BY id",
        {},
    )
    return [_shape_policy(r) for r in rows]


def _shape_policy(r: Row) -> Row:
    r["created_ms"] = dt_to_ms(r.pop("created_at"))
    return r


def allow(conn: Conn, scope: Scope, network: str, port: int | None, note: str) -> Row:
    _admin(scope)
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        raise BadRequest(f"network {network[:64]!r}: not an IP network (CIDR)") from None
    return _shape_policy(
        fetch(
            conn,
            "INSERT INTO console_target_allow (network, port, note, granted_by)"
            " VALUES (%(n)s, %(p)s, %(note)s, %(by)s)"
            " RETURNING id, network::text AS network, port, note, granted_by, created_at",
            {"n": str(net), "p": port, "note": note, "by": scope.name},
        )[0]
    )


def unallow(conn: Conn, scope: Scope, allow_id: int) -> None:
    _admin(scope)
    if conn.execute("DELETE FROM console_target_allow WHERE id = %s", (allow_id,)).rowcount != 1:
        raise NotFound(f"allow-list entry {allow_id}: not found")


def kafka_grants(conn: Conn, scope: Scope) -> list[Row]:
    """Kafka prefixes granted beyond ``nt.tenant.<enterprise>.`` (an enterprise sees its own)."""
    rows = fetch(
        conn,
        "SELECT id, enterprise, prefix, granted_by, created_at FROM console_kafka_grants"
        f" WHERE {filter_sql('enterprise')} ORDER BY id",
        scope.params(),
    )
    return [_shape_policy(r) for r in rows]


def grant_kafka(conn: Conn, scope: Scope, enterprise: str | None, prefix: str) -> Row:
    _admin(scope)
    if prefix.startswith("__") or not prefix.endswith((".", "-", "_")):
        raise BadRequest(f"prefix {prefix[:64]!r}: must end with '.', '-' or '_'")
    rows = fetch(
        conn,
        "INSERT INTO console_kafka_grants (enterprise, prefix, granted_by)"
        " VALUES (%(e)s, %(p)s, %(by)s) ON CONFLICT DO NOTHING"
        " RETURNING id, enterprise, prefix, granted_by, created_at",
        {"e": enterprise, "p": prefix, "by": scope.name},
    )
    if not rows:
        raise BadRequest(f"prefix {prefix!r}: already granted")
    return _shape_policy(rows[0])


def revoke_kafka(conn: Conn, scope: Scope, grant_id: int) -> None:
    _admin(scope)
    if conn.execute("DELETE FROM console_kafka_grants WHERE id = %s", (grant_id,)).rowcount != 1:
        raise NotFound(f"Kafka grant {grant_id}: not found")
