"""The spool-first publisher against a real Kafka broker: delivery, order, a broker outage."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import kafka_read
import pytest

from ingest.contract import TOPIC_DLQ, TOPIC_READINGS
from ingest.intake import encode_batch
from ingest.publisher import Publisher
from nengtan.settings import Settings

pytestmark = pytest.mark.integration



def _batch(device: str, seq: int) -> bytes:
    return encode_batch(
        device,
        seq,
        1_795_253_400_000 + seq,
        [{"point": f"{device}.p", "ts": 1_795_253_400_000 + seq, "value": float(seq), "q": "good"}],
    )


def test_batches_arrive_in_order_per_device_and_dlq_too(
    stack_settings: Settings, tmp_path: Path
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}-"
    pub = Publisher(stack_settings.bootstrap, tmp_path)
    pub.start()
    for seq in range(300):
        pub.publish_batch(f"{prefix}{seq % 3}", _batch(f"{prefix}{seq % 3}", seq))
    pub.publish_dead_letter(f"{prefix}src", "bad CRC: expected 1C80, got 0000", b"##0101...")
    assert pub.drain(60)
    pub.close()
    got = kafka_read.read_topic(
        stack_settings.bootstrap, TOPIC_READINGS, key_prefix=prefix, until=lambda r: len(r) >= 300
    )
    assert len(got) == 300
    for d in range(3):
        seqs = [r["seq"] for r in got if r["device"] == f"{prefix}{d}"]
        assert seqs == list(range(d, 300, 3))  # key = device: one partition, in order
    assert {r["_key"] == r["device"] for r in got} == {True}
    [letter] = kafka_read.read_topic(
        stack_settings.bootstrap, TOPIC_DLQ, key_prefix=prefix, until=lambda r: len(r) >= 1
    )
    assert letter["reason"] == "bad CRC: expected 1C80, got 0000"
    assert pub.status().spool.pending_records == 0


@pytest.mark.faults
@pytest.mark.slow
def test_a_kafka_outage_loses_nothing(local_stack: Any, tmp_path: Path) -> None:
    """Batches submitted before, during and after 30 s without Kafka all arrive, once."""
    settings = local_stack.settings
    prefix = f"o-{uuid.uuid4().hex[:8]}-"
    pub = Publisher(settings.bootstrap, tmp_path)
    pub.start()
    seq = 0
    stop = threading.Event()

    def produce() -> None:
        nonlocal seq
        while not stop.is_set():
            pub.publish_batch(f"{prefix}dev", _batch(f"{prefix}dev", seq))
            seq += 1
            time.sleep(0.02)

    feeder = threading.Thread(target=produce)
    feeder.start()
    try:
        time.sleep(3)
        local_stack.kafka.stop()
        time.sleep(30)
        during = pub.status()
        assert during.spool.pending_records > 0  # the spool holds the outage
        local_stack.kafka.start()
        time.sleep(3)
    finally:
        stop.set()
        feeder.join()
        if local_stack.kafka.status().state != "running":
            local_stack.kafka.start()
    assert pub.drain(120), pub.status()
    pub.close()
    got = kafka_read.read_topic(
        settings.bootstrap,
        TOPIC_READINGS,
        key_prefix=prefix,
        until=lambda r: len(r) >= seq,
        timeout_s=120,
    )
    seqs = sorted(r["seq"] for r in got)
    assert seqs == list(range(seq)), f"missing {sorted(set(range(seq)) - set(seqs))[:10]}"


@pytest.mark.faults
@pytest.mark.slow
def test_delivery_timeouts_rewind_and_resend_from_the_spool(
    local_stack: Any, tmp_path: Path
) -> None:
    """An outage longer than the producer's delivery timeout: the sends fail for good, the
    publisher rewinds to the first unacknowledged record and resends when Kafka is back."""
    settings = local_stack.settings
    prefix = f"r-{uuid.uuid4().hex[:8]}-"
    pub = Publisher(
        settings.bootstrap,
        tmp_path,
        producer_overrides={
            "delivery_timeout_ms": 4000,
            "request_timeout_ms": 2000,
            "linger_ms": 5,
        },
    )
    pub.start()
    for seq in range(50):
        pub.publish_batch(f"{prefix}dev", _batch(f"{prefix}dev", seq))
    assert pub.drain(30)
    local_stack.kafka.stop()
    try:
        for seq in range(50, 150):
            pub.publish_batch(f"{prefix}dev", _batch(f"{prefix}dev", seq))
            time.sleep(0.05)
        time.sleep(8)
        assert pub.status().failures >= 1  # the producer gave up at least once
        assert not pub.status().connected
    finally:
        local_stack.kafka.start()
    assert pub.drain(120), pub.status()
    pub.close()
    got = kafka_read.read_topic(
        settings.bootstrap,
        TOPIC_READINGS,
        key_prefix=prefix,
        until=lambda r: len(r) >= 150,
        timeout_s=60,
    )
    assert sorted({r["seq"] for r in got}) == list(range(150))
    # in order per device, apart from re-sent records (at-least-once after a failed send)
    first_seen = []
    for r in got:
        if r["seq"] not in first_seen:
            first_seen.append(r["seq"])
    assert first_seen == list(range(150))
