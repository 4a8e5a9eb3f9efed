"""Alert subscriptions and their deliveries."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from console.data import subscriptions
from console.deps import ConnDep, Reader, SettingsDep, Writer
from console.schemas import Page, SubscriptionCreate

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
    status: Literal["pending", "sent", "failed"] | None = None,
    limit: int = Query(500, ge=1, le=10000),
) -> Page:
    """The delivery ledger: one row per (subscription, alert, state), with attempts and the
    last error of failed sends."""
    return Page.of(subscriptions.deliveries(conn, scope, subscription_id, status, limit))
