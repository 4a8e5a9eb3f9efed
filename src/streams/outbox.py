"""The worker's output path: records appended to one Kafka record batch per (topic, partition),
sent together, acknowledged together.

Why not Faust's ``Topic.send``: each call builds a ``FutureMessage``, a ``PendingMessage``, a
Faust callback chain and an aiokafka send with its own metadata wait and partitioner call,
~100–160 µs of CPU per record (``nengtan streams-bench --broker``), while the worker's whole
budget is ~1–1.6 µs per reading. Here a record costs its orjson encoding, a cached partition
lookup and one ``BatchBuilder.append`` (aiokafka's public ``create_batch``/``send_batch``).

The guarantees stay those of the ``Topic.send`` path:

- Keys, values and partitions: the key's UTF-8 bytes, the record's compact JSON, and the
  partition aiokafka's ``DefaultPartitioner`` (murmur2 of the key bytes, the partitioner Faust
  gives its own producer) picks among the topic's partitions, so consumers see the same
  partitioning (``tests/streams/test_outbox.py`` compares both paths on a real broker).
- Acknowledgement: ``Outgoing.send`` returns one future per batch, resolved when Kafka
  acknowledged it with ``acks=all``; the agent awaits them before it writes its states and
  before its offsets are acked, exactly as it awaited each record's future.
- Order: records of one key go to one (topic, partition) in the order they were added.

The producer is the worker's own (started on first use), configured from the app's producer
settings (acks, request timeout), so a broker that does not come back fails a batch after the
same timeout as Faust's producer would. Each agent step collects its records in its own
``Outgoing`` (agents run concurrently; one's flush must not carry another's records).

Records are small (a minute row, an alert, a fact); the dead-letter path, whose records carry
a whole rejected input (up to 16 MiB), stays on Faust's producer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

MAX_BATCH_BYTES = 512 * 1024
"""Bytes per record batch: a few thousand minute rows per (topic, partition) and request, under
the broker's default ``message.max.bytes`` (1 MiB)."""

_KEYS_CACHED = 1_000_000
"""Partition lookups kept per topic (murmur2 is pure Python, ~3 µs a key; the keys are points,
enterprises and stacks of one park, a bounded set). Cleared if ever exceeded."""


def encode(value: dict[str, Any]) -> bytes:
    """A record's value: compact UTF-8 JSON (orjson; parses to the same object as
    ``ingest.contract.dumps`` writes)."""
    return orjson.dumps(value)


class Outbox:
    """The worker's producer of output records (see the module docstring)."""

    def __init__(self, bootstrap: str, *, acks: int | str = "all", request_timeout_s: float = 40.0
                 ) -> None:  # fmt: skip
        self._settings: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "acks": acks,
            "request_timeout_ms": int(request_timeout_s * 1000),
            "max_batch_size": MAX_BATCH_BYTES,
            "max_request_size": 2 * MAX_BATCH_BYTES,
        }
        self._producer_: AIOKafkaProducer | None = None
        self._started = False
        self._lock = asyncio.Lock()
        self._partitions: dict[str, list[int]] = {}
        self._by_key: dict[str, dict[bytes, int]] = {}
        self._partitioner = DefaultPartitioner()

    async def start(self) -> None:
        async with self._lock:
            if not self._started:
                # made here: aiokafka binds a producer to the loop running when it is made
                self._producer_ = AIOKafkaProducer(**self._settings)
                await self._producer_.start()
                self._started = True

    async def stop(self) -> None:
        async with self._lock:
            if self._started:
                await self._producer.stop()
                self._producer_ = None
                self._started = False

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._producer_ is None:
            raise RuntimeError("the outbox's producer is not started")
        return self._producer_

    def outgoing(self) -> Outgoing:
        """An empty set of batches for one agent step."""
        return Outgoing(self)

    async def partition(self, topic: str, key: bytes) -> int:
        """The partition of ``key`` on ``topic``, as aiokafka's default partitioner picks it."""
        by_key = self._by_key.get(topic)
        if by_key is not None:
            p = by_key.get(key)
            if p is not None:
                return p
        else:
            await self.start()
            self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
            by_key = self._by_key[topic] = {}
        if len(by_key) >= _KEYS_CACHED:
            by_key.clear()
        p = by_key[key] = int(self._partitioner(key, self._partitions[topic], None))
        return p


class Outgoing:
    """One agent step's records, in one open batch per (topic, partition)."""

    def __init__(self, box: Outbox) -> None:
        self._box = box
        self._open: dict[tuple[str, int], Any] = {}
        self._full: list[tuple[str, int, Any]] = []
        self.records = 0

    async def add(self, topic: str, key: str, value: dict[str, Any]) -> None:
        kb = key.encode()
        p = await self._box.partition(topic, kb)
        self.add_raw(topic, p, kb, encode(value))

    def add_raw(self, topic: str, partition: int, key: bytes, value: bytes) -> None:
        tp = (topic, partition)
        batch = self._open.get(tp)
        if batch is None:
            batch = self._open[tp] = self._box._producer.create_batch()
        if batch.append(timestamp=None, key=key, value=value) is None:  # full: close it
            batch.close()
            self._full.append((topic, partition, batch))
            batch = self._open[tp] = self._box._producer.create_batch()
            if batch.append(timestamp=None, key=key, value=value) is None:
                raise ValueError(f"a record of {len(value)} bytes does not fit a batch of "
                                 f"{MAX_BATCH_BYTES} bytes ({topic}, key {key!r})")  # fmt: skip
        self.records += 1

    async def send(self) -> list[Awaitable[Any]]:
        """Hand every batch to the producer; one future per batch, resolved when Kafka
        acknowledged it (raises if it could not be delivered)."""
        for (topic, partition), batch in self._open.items():
            batch.close()
            self._full.append((topic, partition, batch))
        self._open = {}
        futures: list[Awaitable[Any]] = []
        producer = self._box._producer
        for topic, partition, batch in self._full:
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        self._full = []
        return futures
