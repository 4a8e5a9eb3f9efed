"""Kafka publishing with store-and-forward: every record goes through the spool.

Adapters call ``submit`` (or the helpers ``publish_batch`` / ``publish_dead_letter``), which
appends to the on-disk spool and returns: the adapter never waits for Kafka. One sender thread
reads the spool in order, hands records to a kafka-python producer (``acks=all``, idempotent,
compressed, lingering to fill batches), and acknowledges them in the spool once Kafka has.
So an outage only grows the spool; when Kafka returns the backlog drains in order; a restart
replays the unacknowledged tail (see ``ingest.spool`` for the guarantees).

The producer keeps at most ``window`` records in flight. A failed send (delivery timeout, an
unreachable broker) closes the producer, rewinds the spool to the first unacknowledged record
and reconnects with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.contract import DLQ_MAX_MESSAGE_BYTES, TOPIC_DLQ, TOPIC_READINGS
from ingest.dlq import DeadLetterStore
from ingest.spool import Position, Record, Spool, SpoolStatus, encode_record

log = logging.getLogger(__name__)

GZIP_LEVEL = 1
"""kafka-python compresses gzip at level 9 (6.6 us of CPU per reading); level 1 costs ~0.1 us
and compresses reading batches nearly as well. lz4/zstd would be cheaper still, but every
consumer of ``nt.readings.v1`` would need a native codec that is not a dependency: aiokafka (the
stream worker) decodes them only with ``cramjam``, kafka-python (the sink) only with ``lz4`` /
``zstandard``; gzip is in every client's standard library, kcat's included."""

STALL_S = 5.0
"""A record unacknowledged for this long means Kafka is not taking data (shown as down)."""


def producer_config(bootstrap: str, client_id: str) -> dict[str, Any]:
    """The producer settings every adapter uses (documented in docs/adapters.md)."""
    return {
        "bootstrap_servers": bootstrap.split(","),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,  # kafka-python >= 2.1: exactly one copy per producer session
        "compression_type": "gzip",  # stdlib codec in every client; level: use_fast_gzip
        "linger_ms": 20,
        "batch_size": 512 * 1024,
        # a DLQ record carries its rejected input whole (up to the DLQ topic's limit); reading
        # batches stay below 1 MB (``ingest.intake`` splits them), as their topic requires
        "max_request_size": DLQ_MAX_MESSAGE_BYTES,
        "delivery_timeout_ms": 120_000,
        "request_timeout_ms": 15_000,
        "max_block_ms": 5_000,  # metadata wait when the broker is down: fail fast, retry later
        "reconnect_backoff_ms": 200,
        "reconnect_backoff_max_ms": 5_000,
        "retry_backoff_ms": 200,
    }


def use_fast_gzip(level: int = GZIP_LEVEL) -> None:
    """Make kafka-python's gzip record batches use ``level``.

    kafka-python 3.0 has no compression-level setting: its record builders call the module
    global ``gzip_encode`` with the default level 9. Rebinding that name (in this process: the
    adapters') is the one way to choose the level; ``tests/ingest`` checks that it still takes.
    """
    import functools

    from kafka import codec  # type: ignore[import-untyped]
    from kafka.record import default_records, legacy_records  # type: ignore[import-untyped]

    encode = functools.partial(codec.gzip_encode, compresslevel=level)
    default_records.gzip_encode = encode
    legacy_records.gzip_encode = encode


@dataclass
class _InFlight:
    record: Record
    size: int
    sent_at: float = 0.0
    done: bool = False


@dataclass
class PublisherStatus:
    """What the status line and metrics show."""

    connected: bool
    unacked_s: float
    """Age of the oldest record Kafka has not acknowledged yet (0 when none is waiting)."""
    submitted: int
    acked: int
    failures: int
    spool: SpoolStatus
    last_error: str | None = None


@dataclass
class _Counters:
    submitted: int = 0
    acked: int = 0
    failures: int = 0
    last_error: str | None = None
    extra: dict[str, int] = field(default_factory=dict)


class Publisher:
    """Spool-first Kafka publisher; ``start`` once, ``close`` (idempotent) at the end."""

    def __init__(
        self,
        bootstrap: str,
        spool_dir: Path,
        *,
        client_id: str = "nengtan-adapters",
        max_spool_bytes: int = 1 << 30,
        fsync_interval_ms: int = 100,
        window: int = 20_000,
        producer_overrides: dict[str, Any] | None = None,
        dlq_max_record_bytes: int = DLQ_MAX_MESSAGE_BYTES,
    ) -> None:
        self.bootstrap = bootstrap
        self.spool = Spool(spool_dir / "spool", max_bytes=max_spool_bytes)
        self.dead_letters = DeadLetterStore(spool_dir / "dlq-payloads", dlq_max_record_bytes)
        self.fsync_interval_s = fsync_interval_ms / 1000
        self.window = window
        self._config = producer_config(bootstrap, client_id) | (producer_overrides or {})
        self._counters = _Counters()
        self._lock = threading.Lock()
        self._inflight: deque[_InFlight] = deque()
        self._failed = threading.Event()
        self._stop = threading.Event()
        self._connected = False
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- producing side (adapters) -------------------------------------------------------------
    def submit(self, topic: str, key: bytes, value: bytes) -> None:
        """Append one record to the spool; raises ``SpoolFull`` at the bound."""
        self.spool.append(topic, key, value)
        if self.fsync_interval_s <= 0:
            self.spool.sync()
        with self._lock:
            self._counters.submitted += 1

    def publish_batch(self, device: str, value: bytes) -> None:
        """One encoded ``ReadingBatch`` on ``nt.readings.v1``, keyed by device id."""
        self.submit(TOPIC_READINGS, device.encode("utf-8"), value)

    def publish_dead_letter(
        self, source: str, reason: str, payload: bytes, received_ms: int | None = None
    ) -> None:
        """A rejected input on ``nt.readings.dlq.v1`` (large payloads: see ``ingest.dlq``)."""
        value = self.dead_letters.record(source, reason, payload, received_ms)
        self.submit(TOPIC_DLQ, source.encode("utf-8"), value)
        with self._lock:
            self._counters.extra["dlq"] = self._counters.extra.get("dlq", 0) + 1

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sender thread (it connects, and reconnects, on its own)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kafka-sender", daemon=True)
            self._thread.start()

    def drain(self, timeout_s: float) -> bool:
        """Wait until Kafka has acknowledged everything submitted; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.spool.status().pending_records == 0:
                return True
            time.sleep(0.02)
        return self.spool.status().pending_records == 0

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop sending, wait up to ``timeout_s`` for acks, persist the spool. Safe twice."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s + 5)
        self.spool.close()

    def status(self) -> PublisherStatus:
        with self._lock:
            c = self._counters
            oldest = self._inflight[0].sent_at if self._inflight else None
            waiting = time.monotonic() - oldest if oldest is not None else 0.0
            return PublisherStatus(
                connected=self._connected and waiting < STALL_S,
                unacked_s=waiting,
                submitted=c.submitted,
                acked=c.acked,
                failures=c.failures,
                spool=self.spool.status(),
                last_error=c.last_error,
            )

    @property
    def dlq_count(self) -> int:
        with self._lock:
            return self._counters.extra.get("dlq", 0)

    # -- sender thread -------------------------------------------------------------------------
    def _run(self) -> None:
        producer: Any = None
        backoff_s = 0.2
        last_sync = time.monotonic()
        while True:
            now = time.monotonic()
            if now - last_sync >= self.fsync_interval_s:
                self.spool.sync()
                last_sync = now
            if self._stop.is_set():
                # final flush: give in-flight records a bounded chance, then stop
                if producer is not None:
                    self._flush(producer, 10.0)
                    self._settle()
                    producer.close(timeout=1)
                self.spool.sync()
                return
            if producer is None:
                producer = self._connect()
                if producer is None:
                    self._stop.wait(backoff_s)
                    backoff_s = min(backoff_s * 2, 5.0)
                    continue
                backoff_s = 0.2
            if self._failed.is_set():
                self._reset(producer)
                producer = None
                continue
            self._settle()
            room = self.window - len(self._inflight)
            if room <= 0:
                time.sleep(0.005)
                continue
            records = self.spool.read(min(room, 2000), timeout_s=0.05)
            for record in records:
                if not self._send(producer, record):
                    break

    def _connect(self) -> Any:
        from kafka import KafkaProducer

        use_fast_gzip()
        try:
            producer = KafkaProducer(**self._config)
        except Exception as exc:  # NoBrokersAvailable and friends: retried with backoff
            self._note_error(f"cannot connect to Kafka at {self.bootstrap}: {exc}")
            return None
        with self._lock:
            self._connected = True
        log.info("connected to Kafka at %s", self.bootstrap)
        return producer

    def _send(self, producer: Any, record: Record) -> bool:
        size = len(encode_record(record.topic, record.key, record.value))
        entry = _InFlight(record, size, time.monotonic())
        try:
            future = producer.send(record.topic, key=record.key, value=record.value)
        except Exception as exc:  # metadata timeout, buffer exhausted, closed producer
            self._note_error(f"send to {record.topic} failed: {exc}")
            self._failed.set()
            return False
        with self._lock:
            self._inflight.append(entry)
        future.add_callback(self._on_ack, entry)
        future.add_errback(self._on_error, entry)
        return True

    def _on_ack(self, entry: _InFlight, _metadata: Any) -> None:
        with self._lock:
            entry.done = True

    def _on_error(self, entry: _InFlight, exc: BaseException) -> None:
        self._note_error(f"Kafka did not acknowledge a record on {entry.record.topic}: {exc}")
        self._failed.set()

    def _settle(self) -> None:
        """Acknowledge in the spool the longest prefix of in-flight records Kafka confirmed."""
        count = 0
        size = 0
        upto: Position | None = None
        with self._lock:
            while self._inflight and self._inflight[0].done:
                entry = self._inflight.popleft()
                count += 1
                size += entry.size
                upto = entry.record.next_pos
            self._counters.acked += count
        if upto is not None:
            self.spool.acknowledge(upto, count, size)

    def _flush(self, producer: Any, timeout_s: float) -> None:
        try:
            producer.flush(timeout=timeout_s)
        except Exception as exc:
            self._note_error(f"flush failed: {exc}")

    def _reset(self, producer: Any) -> None:
        """After a failure: drop the producer and resend from the first unacknowledged record."""
        self._settle()
        _discard(producer)
        with self._lock:
            self._inflight.clear()
            self._connected = False
            self._counters.failures += 1
        self.spool.rewind()
        self._failed.clear()
        self._stop.wait(0.5)

    def _note_error(self, text: str) -> None:
        log.warning("%s", text)
        with self._lock:
            self._counters.last_error = text
            self._connected = False


def _discard(producer: Any) -> None:
    """Close a failed producer at once, dropping what it still holds (the spool has it).

    kafka-python's ``close(timeout=0)`` raises from its ``flush`` before it force-closes the
    sender thread, which would then keep retrying old records; so force-close it ourselves.
    """
    try:
        producer.close(timeout=0)
    except Exception as exc:
        log.debug("closing failed producer: %s", exc)
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
        producer._closed = True
