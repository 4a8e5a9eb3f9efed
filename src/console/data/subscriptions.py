"""Alert subscriptions (filters and a channel) and their delivery ledger, in the caller's scope.

An enterprise user's subscription always carries their enterprise (asking for another is
refused); a subscription with no enterprise (every enterprise and park-wide alerts) is for
park administrators. Webhook secrets are write-only: returned once at creation, never listed.
"""

from __future__ import annotations

import secrets
from typing import Any

from console.auth import Scope, filter_sql
from console.data import Conn, Row, dt_to_ms, fetch
from console.errors import BadRequest, Forbidden, NotFound

CHANNELS = ("webhook", "mqtt", "email", "kafka")
_COLS = "id, owner, enterprise, stack, severities, rule_id, metric, channel, target, created_at"


def _shape(r: Row) -> Row:
    r["created_ms"] = dt_to_ms(r.pop("created_at"))
    return r


def create(conn: Conn, scope: Scope, spec: dict[str, Any], default_topic: str) -> Row:
    """Store a subscription; ``spec`` has the filters, ``channel`` and ``target``."""
    enterprise = spec.get("enterprise")
    if not scope.sees_all:
        if enterprise is None:
            enterprise = scope.enterprise
        if enterprise != scope.enterprise:
            raise Forbidden(f"enterprise {enterprise!r}: outside your scope")
    channel = spec["channel"]
    if channel not in CHANNELS:
        raise BadRequest(f"channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    target = spec.get("target") or ""
    if channel == "webhook" and not target.startswith(("http://", "https://")):
        raise BadRequest(f"target {target!r}: a webhook needs an http(s) URL")
    if channel == "email" and "@" not in target:
        raise BadRequest(f"target {target!r}: an e-mail subscription needs an address")
    if channel == "kafka" and not target:
        target = default_topic
    if channel == "mqtt":
        target = ""
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
