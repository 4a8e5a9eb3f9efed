"""Dead-letter records for ``nt.readings.dlq.v1``: the rejected input, whole, and why.

A DLQ record carries its payload base64-encoded (4/3 larger). The DLQ topic takes records up
to ``ingest.contract.DLQ_MAX_MESSAGE_BYTES`` (16 MiB), and the publisher's producer requests
are sized to match, so a payload of up to ~12 MiB (a 10 MB MQTT message included) travels
whole in its record: an operator replays or inspects it straight from Kafka.

Only a payload whose record would exceed that limit (Kafka would refuse it, and a refused
record would block the spool behind it) is written whole to a local quarantine file named by
its SHA-256; its record then carries as much of the payload's beginning as fits, with a reason
stating the original size, the hash and the file. Nothing is lost either way.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from ingest.contract import DLQ_MAX_MESSAGE_BYTES, DeadLetter

RECORD_OVERHEAD_BYTES = 1024
"""Room left in a Kafka record for what is not the value: the key is counted separately;
this covers the record and batch headers (~100 bytes) with a margin."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class DeadLetterStore:
    """Builds DLQ record bytes; keeps payloads too large for the topic whole on local disk."""

    def __init__(self, quarantine_dir: Path, max_record_bytes: int = DLQ_MAX_MESSAGE_BYTES) -> None:
        self.quarantine_dir = quarantine_dir
        self.max_record_bytes = max_record_bytes

    def record(
        self, source: str, reason: str, payload: bytes, received_ms: int | None = None
    ) -> bytes:
        """The JSON value of one DLQ record (``ingest.contract.DeadLetter``), at most
        ``max_record_bytes`` with its key (``source``) and Kafka's record overhead."""
        received = now_ms() if received_ms is None else received_ms
        room = self.max_record_bytes - RECORD_OVERHEAD_BYTES - len(source.encode("utf-8"))
        value = _letter(received, source, reason, payload)
        if len(value) <= room:
            return value
        digest = hashlib.sha256(payload).hexdigest()
        path = self._quarantine(digest, payload)

        def noted(kept: int) -> str:
            return (
                f"{reason} [payload of {len(payload)} bytes is above the DLQ topic's "
                f"{self.max_record_bytes}-byte records: truncated to its first {kept} bytes "
                f"here; sha256 {digest}; kept whole at {path}]"
            )

        # the reason with the widest number it can hold, then as much payload as still fits
        spare = room - len(_letter(received, source, noted(len(payload)), b""))
        kept = max(0, spare) // 4 * 3
        return _letter(received, source, noted(kept), payload[:kept])

    def _quarantine(self, digest: str, payload: bytes) -> Path:
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        path = self.quarantine_dir / f"{digest}.bin"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return path


def _letter(received_ms: int, source: str, reason: str, payload: bytes) -> bytes:
    letter = DeadLetter.of(received_ms=received_ms, source=source, reason=reason, payload=payload)
    return letter.model_dump_json().encode("utf-8")
