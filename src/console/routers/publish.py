"""Vendor publishing: a reading batch onto ``nt.readings.v1`` (role vendor or admin).

The body is taken raw (size-limited) and checked by the adapters' own validator
(``ingest.validate``), not parsed by a pydantic model: a model would turn ``"1.5"`` and
``true`` into numbers. Good readings are published as one batch (split like the adapters'
above Kafka's size limit); a rejected input goes whole to ``nt.readings.dlq.v1`` with its
reason, and the answer says what was rejected and why: 202 all accepted, 207 some rejected,
422 none accepted (or not a reading batch), 403 a device not of the caller's enterprise.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from console.body import RawBody
from console.data import publish
from console.deps import ConnDep, Publisher
from console.schemas import PublishBatch, inline_schema
from ingest.contract import TOPIC_DLQ, TOPIC_READINGS
from ingest.dlq import DeadLetterStore
from ingest.intake import now_ms, split_batch
from ingest.validate import Envelope, check_envelope, summarize

router = APIRouter(prefix="/api/v1", tags=["publish"])

MAX_PROBLEMS = 20
"""The answer lists at most this many rejected readings (the DLQ record has the input whole)."""


@router.post(
    "/readings",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(PublishBatch)}},
        }
    },
    responses={
        207: {"description": "some readings accepted, the others rejected (listed)"},
        403: {"description": "the device is not one of your enterprise"},
        413: {"description": "body above the console's limit"},
        422: {"description": "no reading accepted (listed), or not a reading batch"},
    },
)
def publish_readings(
    request: Request, conn: ConnDep, scope: Publisher, payload: RawBody
) -> JSONResponse:
    """Publish one batch for a device of your enterprise (keyed by device, like adapters do).

    Every reading is validated like the field adapters' (finite number in the point's plausible
    range, integer epoch ms near now, the point is the device's and not a manual-entry point);
    rejected input lands in the dead-letter topic whole."""
    received = now_ms()
    source = f"http:{scope.name}"
    dlq = _dead_letters(request)

    def reject(status: int, reason: str, problems: list[str], accepted: int = 0) -> JSONResponse:
        record = dlq.record(source, reason, payload, received)
        request.app.state.producer().send(TOPIC_DLQ, key=source.encode(), value=record).get(
            timeout=10
        )
        body = {
            "detail": reason[:2000],
            "accepted": accepted,
            "rejected": len(problems),
            "problems": problems[:MAX_PROBLEMS],
            "dead_letter_topic": TOPIC_DLQ,
        }
        return JSONResponse(body, status_code=status)

    try:
        batch = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        reason = f"malformed JSON: {str(exc)[:200]}"
        return reject(422, reason, [reason])
    envelope = check_envelope(batch)
    if isinstance(envelope, str):
        return reject(422, envelope, [envelope])
    validator = publish.validator_for(conn, scope)
    problem = validator.check_source(envelope.device)
    if problem is not None:
        reason = f"device {envelope.device[:128]!r}: not a device of your enterprise"
        return reject(403, reason, [reason])
    good, bad = validator.check(envelope.device, envelope.readings, received)
    if good:
        _publish(request, envelope, good)
    if bad:
        total = len(envelope.readings) if isinstance(envelope.readings, list) else 0
        reason = f"device {envelope.device!r}: " + summarize(bad, total)
        return reject(207 if good else 422, reason, bad, accepted=len(good))
    return JSONResponse({"accepted": len(good), "rejected": 0, "topic": TOPIC_READINGS}, 202)


def _publish(request: Request, envelope: Envelope, readings: list[dict[str, Any]]) -> None:
    producer = request.app.state.producer()
    futures = [
        producer.send(TOPIC_READINGS, key=envelope.device.encode(), value=part)
        for part in split_batch(envelope.device, envelope.seq, envelope.sent_ms, readings)
    ]
    for future in futures:
        future.get(timeout=10)


def _dead_letters(request: Request) -> DeadLetterStore:
    store: DeadLetterStore | None = getattr(request.app.state, "dead_letters", None)
    if store is None:
        store = DeadLetterStore(request.app.state.settings.state_dir / "console-dlq-payloads")
        request.app.state.dead_letters = store
    return store
