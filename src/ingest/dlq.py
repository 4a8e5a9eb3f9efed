"""Dead-letter records for ``nt.readings.dlq.v1``: the rejected input, whole, and why.

A Kafka broker refuses messages above ``message.max.bytes`` (about 1 MB by default), and a
DLQ record carries its payload base64-encoded (4/3 larger). Rather than require every broker
and topic to be reconfigured for large messages, a payload above ``max_payload_bytes``
(512 KiB by default) is written whole to a local quarantine file named by its SHA-256, and the
DLQ record carries its first ``max_payload_bytes`` bytes with a reason stating the original
size, the hash and the file. Nothing is lost; the topic stays within default limits.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from ingest.contract import DeadLetter


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class DeadLetterStore:
    """Builds DLQ record bytes; keeps oversized payloads whole on local disk."""

    def __init__(self, quarantine_dir: Path, max_payload_bytes: int = 512 * 1024) -> None:
        self.quarantine_dir = quarantine_dir
        self.max_payload_bytes = max_payload_bytes

    def record(
        self, source: str, reason: str, payload: bytes, received_ms: int | None = None
    ) -> bytes:
        """The JSON value of one DLQ record (``ingest.contract.DeadLetter``)."""
        if len(payload) > self.max_payload_bytes:
            digest = hashlib.sha256(payload).hexdigest()
            path = self._quarantine(digest, payload)
            reason = (
                f"{reason} [payload of {len(payload)} bytes truncated to its first "
                f"{self.max_payload_bytes} bytes here; sha256 {digest}; kept whole at {path}]"
            )
            payload = payload[: self.max_payload_bytes]
        letter = DeadLetter.of(
            received_ms=now_ms() if received_ms is None else received_ms,
            source=source,
            reason=reason,
            payload=payload,
        )
        return letter.model_dump_json().encode("utf-8")

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
