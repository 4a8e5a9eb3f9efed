"""Alert subscriptions, their deliveries and the delivery policy (the inside networks an
administrator allows as webhook targets, the Kafka prefixes granted to enterprises)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from console.data import subscriptions
from console.deps import ConnDep, Reader, SettingsDep, Writer
from console.schemas import AllowCreate, KafkaGrantCreate, Page, SubscriptionCreate

router = APIRouter(prefix="/api/v1", tags=["subscriptions"])


@router.post("/subscriptions", status_code=201)
def create(
    body: SubscriptionCreate, conn: ConnDep, scope: Writer, settings: SettingsDep
) -> dict[str, Any]:
    """Subscribe; the answer carries the webhook secret, shown this once."""
    return subscriptions.create(conn, scope, body.model_dump(), settings.kafka_alerts_topic)


@router.get("/subscriptions")
def list_subscriptions(conn: ConnDep, scope: Reader) -> Page:
    return Page.of(subscriptions.list_(conn, scope))


@router.get("/subscriptions/{subscription_id}")
def get(subscription_id: int, conn: ConnDep, scope: Reader) -> dict[str, Any]:
    return subscriptions.get(conn, scope, subscription_id)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete(subscription_id: int, conn: ConnDep, scope: Writer) -> Response:
    subscriptions.delete(conn, scope, subscription_id)
    return Response(status_code=204)


@router.get("/deliveries")
def deliveries(
    conn: ConnDep,
    scope: Reader,
    subscription_id: int | None = Query(None, ge=1, le=2**62),
    status: Literal["pending", "sent", "failed", "deferred"] | None = None,
    limit: int = Query(500, ge=1, le=10000),
) -> Page:
    """The delivery ledger: one row per (subscription, alert, state), with attempts and the
    category of the last error (never the target's own error text)."""
    return Page.of(subscriptions.deliveries(conn, scope, subscription_id, status, limit))


@router.get("/delivery/allow-list")
def allow_list(conn: ConnDep, scope: Reader) -> Page:
    """Inside networks (loopback, private, ...) allowed as webhook targets."""
    return Page.of(subscriptions.allow_list(conn, scope))


@router.post("/delivery/allow-list", status_code=201)
def allow(body: AllowCreate, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    """Allow an inside network (and optionally one port) as webhook target (admin)."""
    return subscriptions.allow(conn, scope, body.network, body.port, body.note)


@router.delete("/delivery/allow-list/{allow_id}", status_code=204)
def unallow(allow_id: int, conn: ConnDep, scope: Writer) -> Response:
    subscriptions.unallow(conn, scope, allow_id)
    return Response(status_code=204)


@router.get("/delivery/kafka-grants")
def kafka_grants(conn: ConnDep, scope: Reader) -> Page:
    """Kafka topic prefixes granted beyond the default ``nt.tenant.<enterprise>.``."""
    return Page.of(subscriptions.kafka_grants(conn, scope))


@router.post("/delivery/kafka-grants", status_code=201)
def grant_kafka(body: KafkaGrantCreate, conn: ConnDep, scope: Writer) -> dict[str, Any]:
    """Grant an enterprise (or, without one, park-wide subscriptions) a topic prefix (admin)."""
    return subscriptions.grant_kafka(conn, scope, body.enterprise, body.prefix)


@router.delete("/delivery/kafka-grants/{grant_id}", status_code=204)
def revoke_kafka(grant_id: int, conn: ConnDep, scope: Writer) -> Response:
    subscriptions.revoke_kafka(conn, scope, grant_id)
    return Response(status_code=204)
