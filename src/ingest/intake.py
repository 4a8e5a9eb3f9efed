"""The intake: where every adapter hands over what it read (validate -> publish or dead-letter).

Adapters speak their protocol and produce candidate readings; the intake checks them against
the park (``ingest.validate``), publishes the good ones as one ``ReadingBatch`` message per
poll cycle or gateway publish, and sends every rejected input whole to the DLQ with a reason.
It also keeps the counters the status line shows (batches, readings, DLQ records).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

from ingest.contract import READINGS_SCHEMA, dumps
from ingest.publisher import Publisher
from ingest.validate import Validator, summarize

MAX_MESSAGE_BYTES = 900_000
"""Kafka's default message.max.bytes is ~1 MB; a larger batch is split into several messages
with the same device, seq and sent_ms (rare: about 15,000 readings)."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class IntakeCounters:
    batches: int = 0
    readings: int = 0
    rejected_readings: int = 0
    dlq: int = 0
    dropped: int = 0


class Intake:
    """Validator + publisher + counters; thread-safe, shared by all adapters of a process."""

    def __init__(self, validator: Validator, publisher: Publisher) -> None:
        self.validator = validator
        self.publisher = publisher
        self.counters = IntakeCounters()
        self._lock = threading.Lock()

    def accept(
        self,
        *,
        device: str,
        seq: int,
        sent_ms: int,
        readings: Any,
        source: str,
        payload: bytes | None = None,
        enterprise: str | None = None,
        received_ms: int | None = None,
    ) -> int:
        """Validate and publish one batch; returns how many readings were published.

        ``source`` names the input in DLQ records (``mqtt:<topic>``, ``modbus:<device>``...);
        ``payload`` is the raw input kept in the DLQ (default: the candidate batch as JSON).
        """
        received = now_ms() if received_ms is None else received_ms
        problem = self.validator.check_source(device, enterprise)
        if problem is not None:
            self.reject(
                source, problem, payload or _as_json(device, seq, sent_ms, readings), received
            )
            return 0
        good, bad = self.validator.check(device, readings, received)
        if bad:
            total = len(readings) if isinstance(readings, list) else 0
            reason = f"device {device!r}: " + summarize(bad, total)
            self.reject(
                source, reason, payload or _as_json(device, seq, sent_ms, readings), received
            )
        if good:
            self.publish(device, seq, sent_ms, good)
        with self._lock:
            self.counters.rejected_readings += len(bad)
        return len(good)

    def publish(self, device: str, seq: int, sent_ms: int, readings: list[dict[str, Any]]) -> None:
        """Publish already-valid readings as one batch (split only above Kafka's size limit)."""
        for part in split_batch(device, seq, sent_ms, readings):
            self.publisher.publish_batch(device, part)
        with self._lock:
            self.counters.batches += 1
            self.counters.readings += len(readings)

    def reject(
        self, source: str, reason: str, payload: bytes, received_ms: int | None = None
    ) -> None:
        """One DLQ record for a rejected input."""
        self.publisher.publish_dead_letter(source, reason, payload, received_ms)
        with self._lock:
            self.counters.dlq += 1

    def dropped(self, n: int = 1) -> None:
        """Count batches that could not even be spooled (spool full)."""
        with self._lock:
            self.counters.dropped += n

    def snapshot(self) -> IntakeCounters:
        with self._lock:
            c = self.counters
            return IntakeCounters(c.batches, c.readings, c.rejected_readings, c.dlq, c.dropped)


def encode_batch(device: str, seq: int, sent_ms: int, readings: list[dict[str, Any]]) -> bytes:
    """A ``nt.readings/1`` batch as JSON bytes (orjson: same compact UTF-8 as ``dumps``)."""
    return orjson.dumps(
        {
            "schema": READINGS_SCHEMA,
            "device": device,
            "seq": seq,
            "sent_ms": sent_ms,
            "readings": readings,
        }
    )


def split_batch(device: str, seq: int, sent_ms: int, readings: list[dict[str, Any]]) -> list[bytes]:
    """One message, or several if it would exceed ``MAX_MESSAGE_BYTES``."""
    data = encode_batch(device, seq, sent_ms, readings)
    if len(data) <= MAX_MESSAGE_BYTES or len(readings) <= 1:
        return [data]
    half = len(readings) // 2
    return split_batch(device, seq, sent_ms, readings[:half]) + split_batch(
        device, seq, sent_ms, readings[half:]
    )


def _as_json(device: str, seq: int, sent_ms: int, readings: Any) -> bytes:
    try:
        return dumps({"device": device, "seq": seq, "sent_ms": sent_ms, "readings": readings})
    except (TypeError, ValueError):
        return repr(readings).encode("utf-8")
