"""DLQ records: a rejected input travels whole up to the topic's limit, above it on disk."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from ingest.contract import DLQ_MAX_MESSAGE_BYTES
from ingest.dlq import RECORD_OVERHEAD_BYTES, DeadLetterStore


def test_payload_up_to_the_topic_limit_is_carried_whole(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "q")
    payload = bytes(range(256)) * 40_960  # 10 MiB, every byte value
    value = store.record("mqtt:x", "malformed JSON: nope", payload, received_ms=5)
    letter = json.loads(value)
    assert letter["received_ms"] == 5 and letter["source"] == "mqtt:x"
    assert letter["reason"] == "malformed JSON: nope"
    assert base64.b64decode(letter["payload_b64"]) == payload
    assert len(value) < DLQ_MAX_MESSAGE_BYTES
    assert not (tmp_path / "q").exists()


def test_payload_above_the_limit_is_quarantined_and_the_record_fits(tmp_path: Path) -> None:
    limit = 64 * 1024
    store = DeadLetterStore(tmp_path / "q", max_record_bytes=limit)
    payload = b"y" * 100_000
    value = store.record("mqtt:x", "malformed JSON: nope", payload, received_ms=5)
    letter = json.loads(value)
    digest = hashlib.sha256(payload).hexdigest()
    kept = base64.b64decode(letter["payload_b64"])
    # as much of the beginning as fits: the record within the limit, less than 4 bytes spare
    room = limit - RECORD_OVERHEAD_BYTES - len("mqtt:x")
    assert len(value) <= room < len(value) + 4 + 1
    assert payload.startswith(kept) and len(kept) % 3 == 0
    assert letter["reason"] == (
        f"malformed JSON: nope [payload of 100000 bytes is above the DLQ topic's 65536-byte "
        f"records: truncated to its first {len(kept)} bytes here; sha256 {digest}; "
        f"kept whole at {tmp_path / 'q' / (digest + '.bin')}]"
    )
    assert (tmp_path / "q" / f"{digest}.bin").read_bytes() == payload


def test_payload_exactly_at_the_limit_is_carried_whole(tmp_path: Path) -> None:
    limit = 64 * 1024
    store = DeadLetterStore(tmp_path / "q", max_record_bytes=limit)
    room = limit - RECORD_OVERHEAD_BYTES - len("s")
    bare = len(store.record("s", "r", b"", received_ms=1))
    fits = b"z" * ((room - bare) // 4 * 3)
    assert base64.b64decode(json.loads(store.record("s", "r", fits, 1))["payload_b64"]) == fits
    over = fits + b"zzz"  # four more base64 characters: past the room
    assert "truncated" in json.loads(store.record("s", "r", over, 1))["reason"]
