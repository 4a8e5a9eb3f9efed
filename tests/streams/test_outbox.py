"""The worker's batched output path against the real Kafka of the session stack: records land
on the partitions Faust's ``Topic.send`` puts them on, with the same keys and values, and a
batch that cannot be delivered fails its future (the worker then exits 75 without acking)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import orjson
import pytest
from aiokafka.errors import KafkaError
from kafka import KafkaConsumer

from nengtan.settings import Settings
from streams import send_bench
from streams.outbox import Outbox

pytestmark = pytest.mark.integration


def _read(bootstrap: str, topic: str, n: int) -> dict[int, list[tuple[bytes, object]]]:
    """Partition -> [(key, parsed value)] in offset order."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=10_000)  # fmt: skip
    got: dict[int, list[tuple[bytes, object]]] = defaultdict(list)
    seen = 0
    try:
        for msg in consumer:
            got[msg.partition].append((msg.key, orjson.loads(msg.value)))
            seen += 1
            if seen == n:
                break
    finally:
        consumer.close()
    return dict(got)


def test_outbox_partitions_keys_values_as_faust(stack_settings: Settings) -> None:
    bootstrap = stack_settings.bootstrap
    recs = send_bench.records(3_000, points=700)
    tag = uuid.uuid4().hex[:8]
    old, new = f"nt-test-faust-{tag}", f"nt-test-outbox-{tag}"

    async def main() -> None:
        await send_bench._create(bootstrap, [old, new], 5)
        await send_bench._faust(bootstrap, old, recs)
        box = Outbox(bootstrap)
        try:
            for i in range(0, len(recs), 1_000):
                await send_bench._outbox(box, new, recs[i : i + 1_000])
        finally:
            await box.stop()

    asyncio.run(main())
    via_faust, via_outbox = _read(bootstrap, old, len(recs)), _read(bootstrap, new, len(recs))
    assert sum(map(len, via_outbox.values())) == len(recs)
    assert len(via_outbox) == 5  # the keys spread over every partition
    assert via_outbox == via_faust  # same partition, key, value and order within a partition


def test_a_batch_the_broker_refuses_fails_its_future(stack_settings: Settings) -> None:
    """A topic whose ``max.message.bytes`` is smaller than the batch: the broker refuses it, the
    batch's future fails (the worker's ``ship`` then exits 75, ``test_app_ship.py``)."""
    bootstrap = stack_settings.bootstrap
    topic = f"nt-test-small-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "2000"})]
            )
        finally:
            await admin.close()
        box = Outbox(bootstrap, request_timeout_s=10.0)
        out = box.outgoing()
        try:
            for k, v in send_bench.records(200):
                await out.add(topic, k, v)
            futures = await out.send()
            with pytest.raises(KafkaError):
                await asyncio.gather(*futures)
        finally:
            await box.stop()

    asyncio.run(main())
