"""Vendor publishing: a reading batch onto ``nt.readings.v1`` (role vendor or admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from console.data import publish
from console.deps import ConnDep, Publisher
from console.schemas import PublishBatch
from ingest.contract import READINGS_SCHEMA, TOPIC_READINGS, dumps

router = APIRouter(prefix="/api/v1", tags=["publish"])


@router.post("/readings", status_code=202)
def publish_readings(
    body: PublishBatch, request: Request, conn: ConnDep, scope: Publisher
) -> dict[str, Any]:
    """Publish one batch for a device of your enterprise (keyed by device, like adapters do)."""
    publish.check_batch(conn, scope, body.device, [r.point for r in body.readings])
    record = {"schema": READINGS_SCHEMA, **body.model_dump()}
    request.app.state.producer().send(
        TOPIC_READINGS, key=body.device.encode(), value=dumps(record)
    ).get(timeout=10)
    return {"accepted": len(body.readings), "topic": TOPIC_READINGS}
