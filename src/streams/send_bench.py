"""``nengtan streams-bench --broker``: the worker's output path on a real broker. The same
``records`` v1 consumption records (keyed by point) are sent through Faust's ``Topic.send`` (the
old path: one send per record, all futures awaited) and through ``streams.outbox`` (the new
path: one batch per partition, its futures awaited), each to its own fresh topic, with records/s
and µs of CPU (this process) per record. Prints figures; asserts nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import faust

from ingest.contract import dumps
from streams.outbox import Outbox

T0 = 1_767_571_200_000


def records(n: int, points: int = 5_000) -> list[tuple[str, dict[str, Any]]]:
    """``n`` consumption records of ``points`` points, one minute each."""
    out = []
    for i in range(n):
        point = f"d{i % points // 50}.p{i % 50}"
        start = T0 + (i // points) * 60_000
        out.append((point, {
            "point": point, "enterprise": f"e{i % 10}", "start_ms": start,
            "end_ms": start + 60_000, "quantity": 1.25 + i * 0.001, "unit": "kWh",
            "energy_type": "electricity", "readings": 6, "complete": True,
        }))  # fmt: skip
    return out


async def _faust(bootstrap: str, topic: str, recs: list[tuple[str, dict[str, Any]]]) -> None:
    app = faust.App(
        f"nt-send-bench-{uuid.uuid4().hex[:8]}",
        broker=[f"kafka://{h.strip()}" for h in bootstrap.split(",")],
        producer_acks=-1,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
    )
    t = app.topic(topic, key_type=bytes, value_type=bytes, key_serializer="raw",
                  value_serializer="raw")  # fmt: skip
    await app.producer.start()
    try:
        futures = [await t.send(key=k.encode(), value=dumps(v), force=True) for k, v in recs]
        await asyncio.gather(*futures)
    finally:
        await app.producer.stop()


async def _outbox(box: Outbox, topic: str, recs: list[tuple[str, dict[str, Any]]]) -> None:
    out = box.outgoing()
    for k, v in recs:
        await out.add(topic, k, v)
    await asyncio.gather(*await out.send())


async def _create(bootstrap: str, names: list[str], partitions: int) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


def run(bootstrap: str, n: int = 20_000, partitions: int = 4, group: int = 2_000
        ) -> dict[str, float]:  # fmt: skip
    """Send ``n`` records each way (the outbox in steps of ``group`` records, as a worker's
    groups do); the first 1,000 of each path warm it up (metadata, connections) untimed."""
    recs = records(n)
    tag = uuid.uuid4().hex[:8]
    old, new = f"nt-bench-send-faust-{tag}", f"nt-bench-send-outbox-{tag}"

    async def main() -> dict[str, float]:
        await _create(bootstrap, [old, new], partitions)
        # Faust: warm-up inside the same producer's life is not separable; time it all
        start, cpu = time.perf_counter(), time.process_time()
        await _faust(bootstrap, old, recs)
        f_s, f_cpu = time.perf_counter() - start, time.process_time() - cpu
        box = Outbox(bootstrap)
        await _outbox(box, new, recs[:1000])
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, group):
            await _outbox(box, new, recs[i : i + group])
        o_s, o_cpu = time.perf_counter() - start, time.process_time() - cpu
        await box.stop()
        return {
            "records": float(n),
            "faust_records_per_s": n / f_s,
            "faust_cpu_us_per_record": f_cpu / n * 1e6,
            "outbox_records_per_s": n / o_s,
            "outbox_cpu_us_per_record": o_cpu / n * 1e6,
        }

    return asyncio.run(main())
