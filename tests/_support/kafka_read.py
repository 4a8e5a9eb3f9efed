"""Read back what reached Kafka (helper for integration tests; not a test module)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    key_prefix: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout_s: float = 60.0,
) -> list[dict[str, Any]]:
    """Records of ``topic`` whose key starts with ``key_prefix``, in partition order, read from
    the beginning until ``until(records)`` holds or the timeout passes. Each record is the
    decoded JSON value plus ``_key``, ``_partition`` and ``_offset``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=500,
        max_partition_fetch_bytes=16 * 1024 * 1024,  # DLQ records carry whole payloads
    )
    try:
        deadline = time.monotonic() + timeout_s
        partitions = None
        while partitions is None and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                time.sleep(0.2)
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for rec in records:
                    key = rec.key.decode() if rec.key else ""
                    if key.startswith(key_prefix):
                        value = json.loads(rec.value)
                        value.update(_key=key, _partition=rec.partition, _offset=rec.offset)
                        out.append(value)
            if until(out):
                break
        return out
    finally:
        consumer.close()
