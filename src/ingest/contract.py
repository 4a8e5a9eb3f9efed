"""The cross-package contract: Kafka topic names and the JSON records on them.

Change a record only on purpose, with a version bump in the topic name and ``schema`` field.
Timestamps are integer epoch milliseconds, UTC. Models validate at the edges (a vendor's
payload, a file); hot paths may build the same dicts directly and use ``dumps``.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TOPIC_READINGS = "nt.readings.v1"
TOPIC_DLQ = "nt.readings.dlq.v1"
TOPIC_CONSUMPTION = "nt.consumption.v1"
TOPIC_EMISSIONS = "nt.emissions.v1"
TOPIC_ALERTS = "nt.alerts.v1"
ALL_TOPICS: tuple[str, ...] = (
    TOPIC_READINGS,
    TOPIC_DLQ,
    TOPIC_CONSUMPTION,
    TOPIC_EMISSIONS,
    TOPIC_ALERTS,
)

READINGS_SCHEMA = "nt.readings/1"

DLQ_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""``max.message.bytes`` of the DLQ topic: a rejected input travels whole, base64-encoded (4/3
larger), so a 10 MB payload (~14 MB as base64) fits; only larger ones are quarantined to disk
(``ingest.dlq``). Producers and DLQ consumers size their requests and fetches to it."""

Quality = Literal["good", "uncertain", "bad"]
"""Quality of one reading: ``bad`` values are kept as evidence but never accounted."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Reading(_Record):
    """One value of one metering point at one instant."""

    point: str = Field(min_length=1)
    ts: int = Field(description="epoch ms, UTC, when the value was measured")
    value: float
    q: Quality = "good"


class ReadingBatch(_Record):
    """One poll cycle or one gateway publish: the unit that crosses every process boundary."""

    schema_: Literal["nt.readings/1"] = Field("nt.readings/1", alias="schema")
    device: str = Field(min_length=1)
    seq: int = Field(ge=0, description="per-device sequence number, for gap and duplicate checks")
    sent_ms: int
    readings: list[Reading]

    def to_json(self) -> bytes:
        return dumps(self.model_dump(by_alias=True))


class DeadLetter(_Record):
    """A rejected input, kept whole, with a reason a person can act on."""

    received_ms: int
    source: str
    reason: str
    payload_b64: str

    @classmethod
    def of(cls, received_ms: int, source: str, reason: str, payload: bytes) -> DeadLetter:
        return cls(
            received_ms=received_ms,
            source=source,
            reason=reason,
            payload_b64=base64.b64encode(payload).decode("ascii"),
        )

    def payload(self) -> bytes:
        return base64.b64decode(self.payload_b64)


class Consumption(_Record):
    """Energy consumed by one point over one interval (natural key: point, start_ms, end_ms)."""

    point: str
    enterprise: str
    carrier: str
    start_ms: int
    end_ms: int
    quantity: float
    uom: str
    kgce: float


class Emission(_Record):
    """Emissions of one source over one interval (natural key: source, start_ms, end_ms)."""

    source: str
    enterprise: str
    category: str
    scope: Literal[1, 2, 3]
    start_ms: int
    end_ms: int
    co2e_t: float
    gases: dict[str, float]
    factor_id: str
    method: Literal["calculated", "measured"]


class Alert(_Record):
    """A state change of one alert (natural key: alert_id, state, ts)."""

    alert_id: str
    rule_id: str
    state: Literal["raised", "cleared"]
    severity: str
    scope: str
    metric: str
    value: float
    threshold: float
    window: str
    ts: int


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, the encoding of every topic."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
