"""Each stage's own cost and ceiling, measured in the bench's run beside the raw limits.

- ``edge_costs``: CPU per reading of what an adapter and the sink do per batch besides I/O:
  parsing a gateway's JSON, encoding the ``nt.readings/1`` batch, compressing Kafka record
  batches (gzip at kafka-python's default level 9 and at the adapters' level 1), and the sink's
  decoding into rows; stdlib ``json`` beside ``orjson`` for comparison.
- ``sink_cost``: the sink's writer storing reading batches (binary COPY with offsets, and the
  staged upsert it replaced), client CPU and the PostgreSQL backend's CPU per reading.
- ``copy_readings_binary``: the raw binary COPY into ``readings_raw`` (the text COPY is
  ``limits.copy_readings_direct``).
- ``Backlog`` and ``drain_rate``: a load generator that writes reading batches straight into
  Kafka with kcat (several hundred thousand readings/s), and the rate at which a consumer group
  (the stream worker, the sink) works such a backlog off: that stage's own ceiling.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg

from ingest.contract import TOPIC_READINGS, dumps
from nengtan.bench.limits import Rate
from nengtan.errors import ServiceError

T0_MS = 1_767_225_600_000


def gateway_batch(device: str, seq: int, points: int, ts_ms: int, prefix: str = "") -> bytes:
    """A gateway's ``nt.readings/1`` batch of ``points`` counter readings (the bench park's)."""
    ent = device.removesuffix("-gw")
    readings = [
        {"point": f"{prefix}{ent}.p{i:05d}", "ts": ts_ms, "value": seq * 0.25 + i * 1e-3,
         "q": "good"}
        for i in range(points)
    ]  # fmt: skip
    return orjson.dumps(
        {"schema": "nt.readings/1", "device": device, "seq": seq, "sent_ms": ts_ms,
         "readings": readings}
    )  # fmt: skip


def _cpu_us_per(fn: Any, items: int, repeat: int = 3) -> float:
    """Best of ``repeat`` runs of ``fn()`` in process CPU µs per item (best: least disturbed
    by the other processes on the machine)."""
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        fn()
        best = min(best, time.process_time() - began)
    return best * 1e6 / items


def edge_costs(batches: int = 400, points: int = 100) -> dict[str, float]:
    """CPU µs per reading of the adapter's and the sink's per-batch work (no I/O)."""
    from kafka import codec  # type: ignore[import-untyped]
    from kafka.record import default_records  # type: ignore[import-untyped]

    from ingest.intake import encode_batch
    from store.tables import TARGETS

    msgs = [gateway_batch(f"bench{d:03d}-gw", d, points, T0_MS) for d in range(batches)]
    parsed = [orjson.loads(m) for m in msgs]
    n = batches * points

    def compress(level: int) -> None:
        saved = default_records.gzip_encode
        default_records.gzip_encode = lambda data: codec.gzip_encode(data, compresslevel=level)
        try:
            builder = None
            for i, m in enumerate(msgs):
                if builder is None:
                    builder = _builder(default_records)
                if builder.append(i, timestamp=T0_MS, key=b"k", value=m, headers=[]) is None:
                    builder.build()
                    builder = _builder(default_records)
                    builder.append(i, timestamp=T0_MS, key=b"k", value=m, headers=[])
            if builder is not None:
                builder.build()
        finally:
            default_records.gzip_encode = saved

    def rows(loads: Any) -> None:
        target = TARGETS[TOPIC_READINGS]
        for m in msgs:
            list(target.rows(loads(m)))

    def encode_std() -> None:
        for b in parsed:
            dumps(b)

    def encode_or() -> None:
        for b in parsed:
            encode_batch(b["device"], b["seq"], b["sent_ms"], b["readings"])

    return {
        "parse_json_us": _cpu_us_per(lambda: [json.loads(m) for m in msgs], n),
        "parse_orjson_us": _cpu_us_per(lambda: [orjson.loads(m) for m in msgs], n),
        "encode_json_us": _cpu_us_per(encode_std, n),
        "encode_orjson_us": _cpu_us_per(encode_or, n),
        "gzip9_us": _cpu_us_per(lambda: compress(9), n),
        "gzip1_us": _cpu_us_per(lambda: compress(1), n),
        "sink_rows_json_us": _cpu_us_per(lambda: rows(json.loads), n),
        "sink_rows_orjson_us": _cpu_us_per(lambda: rows(orjson.loads), n),
        "readings_per_batch": float(points),
    }


def _builder(default_records: Any) -> Any:
    """A kafka-python record batch builder as the adapters' producer fills (512 KiB, gzip)."""
    return default_records.DefaultRecordBatchBuilder(
        magic=2, compression_type=default_records.DefaultRecordBase.CODEC_GZIP,
        is_transactional=False, producer_id=-1, producer_epoch=-1, base_sequence=-1,
        batch_size=512 * 1024,
    )  # fmt: skip


def _backend_cpu_s(pid: int) -> float | None:
    """utime + stime of a local PostgreSQL backend (None where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@dataclass(frozen=True)
class SinkCost:
    """One write path's figures for ``readings`` readings."""

    readings: int
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float | None

    def as_dict(self) -> dict[str, Any]:
        per = 1e6 / self.readings
        return {
            "readings": self.readings,
            "readings_per_s": self.readings / self.wall_s if self.wall_s > 0 else 0.0,
            "client_cpu_us_per_reading": self.client_cpu_s * per,
            "server_cpu_us_per_reading": (
                self.server_cpu_s * per if self.server_cpu_s is not None else None
            ),
        }


def sink_cost(dsn: str, batches: int, points: int = 100, *, direct: bool) -> SinkCost:
    """The sink's writer storing ``batches`` gateway batches, 50 batches (5,000 readings) a
    transaction, from decoding to commit; the rows are deleted afterwards."""
    from store.sink import Record, Writer

    prefix = "sinkbench-d." if direct else "sinkbench-s."
    msgs = [
        gateway_batch(f"bench{d % 50:03d}-gw", d // 50, points, T0_MS + (d // 50) * 1000, prefix)
        for d in range(batches)
    ]
    records = [Record(TOPIC_READINGS, 0, i, m, T0_MS) for i, m in enumerate(msgs)]
    group = f"nt-bench-sink-{'direct' if direct else 'staged'}-{time.time_ns()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        pid = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
        writer = Writer(conn, group, direct=direct)
        writer.write(records[:1])  # staging tables and plans made outside the measurement
        server0, client0, wall0 = _backend_cpu_s(pid), time.process_time(), time.perf_counter()
        for i in range(1, len(records), 50):
            writer.write(records[i : i + 50])
        wall = time.perf_counter() - wall0
        client = time.process_time() - client0
        server1 = _backend_cpu_s(pid)
        conn.execute("DELETE FROM readings_raw WHERE point LIKE %s", (prefix + "%",))
        conn.execute("DELETE FROM sink_offsets WHERE group_id = %s", (group,))
    server = server1 - server0 if server0 is not None and server1 is not None else None
    return SinkCost((len(records) - 1) * points, wall, client, server)


def copy_readings_binary(dsn: str, rows: int, point_count: int = 20_000) -> Rate:
    """Binary COPY of ``rows`` readings straight into ``readings_raw``, the COPY stream
    encoded before the clock starts (as ``limits.copy_readings_direct`` prepares its text), so
    that the figure is the server's, not a client encoder's."""
    from store.sink import PG_EPOCH_MS

    data = _binary_copy_stream(
        (f"bench.p{i % point_count}", (T0_MS + (i // point_count) * 1000 - PG_EPOCH_MS) * 1000,
         i * 0.5, "good", "bench-gw", i // point_count)
        for i in range(rows)
    )  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM readings_raw WHERE device = 'bench-gw'")
        began = time.perf_counter()
        sql = (
            "COPY readings_raw (point, ts, value, q, device, seq, sent_ts) FROM STDIN"
            " (FORMAT BINARY)"
        )
        with conn.transaction(), conn.cursor() as cur, cur.copy(sql) as copy:
            copy.write(data)
        seconds = time.perf_counter() - began
        conn.execute("DELETE FROM readings_raw WHERE device = 'bench-gw'")
    return Rate(rows, seconds)


def _binary_copy_stream(rows: Any) -> bytes:
    """PostgreSQL's binary COPY format (header, tuples, trailer) for readings rows
    ``(point, ts_us_since_2000, value, q, device, seq)`` (``sent_ts`` = ``ts``)."""
    import struct

    out = [b"PGCOPY\n\xff\r\n\x00", struct.pack("!ii", 0, 0)]
    for point, us, value, q, device, seq in rows:
        p, qq, d = point.encode(), q.encode(), device.encode()
        out.append(
            struct.pack(f"!hi{len(p)}siqidi{len(qq)}si{len(d)}siqiq",
                        7, len(p), p, 8, us, 8, value, len(qq), qq, len(d), d, 8, seq, 8, us)
        )  # fmt: skip
    out.append(struct.pack("!h", -1))
    return b"".join(out)


def produce_backlog(
    bootstrap: str, devices: list[str], points: int, seconds_of_data: int, processes: int = 2
) -> tuple[int, Rate]:
    """Write ``seconds_of_data`` rounds of every gateway's batch straight into the readings
    topic with ``processes`` kcat producers (keyed by device, as the adapters key them);
    returns (messages, the generator's rate in readings/s). Rounds are one second apart and
    end now, so the live load that follows continues each counter without a long gap."""
    base_ms = (time.time_ns() // 1_000_000 // 1000 - seconds_of_data - 5) * 1000
    lines: list[list[bytes]] = [[] for _ in range(processes)]
    for r in range(seconds_of_data):
        for i, dev in enumerate(devices):
            msg = gateway_batch(dev, r, points, base_ms + r * 1000)
            lines[i % processes].append(dev.encode() + b"\t" + msg + b"\n")
    cmd = ["kcat", "-b", bootstrap, "-P", "-t", TOPIC_READINGS, "-K", "\t", "-z", "gzip",
           "-X", "compression.level=1", "-X", "acks=all", "-X", "linger.ms=20",
           "-X", "message.max.bytes=2000000"]  # fmt: skip
    began = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    for p, chunk in zip(procs, lines, strict=True):
        assert p.stdin is not None
        p.stdin.write(b"".join(chunk))
        p.stdin.close()
    for p in procs:
        if p.wait(timeout=600) != 0:
            err = p.stderr.read().decode(errors="replace") if p.stderr else ""
            raise ServiceError(f"kcat produce failed: {err[-500:]}")
    messages = seconds_of_data * len(devices)
    return messages, Rate(messages * points, time.perf_counter() - began)


def drain_rate(committed: Any, start: int, total: int, points: int, window_s: float) -> float:
    """Readings/s at which a group's committed offset (``committed()``, messages summed over
    partitions) advances through a backlog of ``total`` messages above ``start``: from its
    first commit (the consumer is up) over at most ``window_s`` or until the backlog is gone."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _safe(committed) <= start:
        time.sleep(0.2)
    c0, t0 = _safe(committed), time.monotonic()
    c1, t1 = c0, t0
    while time.monotonic() < t0 + window_s and c1 - start < total:
        time.sleep(0.5)
        c1, t1 = _safe(committed), time.monotonic()
    return (c1 - c0) * points / (t1 - t0) if t1 > t0 else 0.0


def _safe(committed: Any) -> int:
    try:
        return int(committed())
    except Exception:  # the group does not exist yet
        return 0


def commit_end(bootstrap: str, group: str, topics: tuple[str, ...]) -> None:
    """Commit the end of ``topics`` for ``group`` before it first runs, so that it starts
    after the stage measurements' backlog instead of working it off again."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, client_id="nengtan-bench-end")  # fmt: skip
    try:
        parts = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        ends = consumer.end_offsets(parts)
        from kafka.structs import OffsetAndMetadata

        consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in ends.items()})
    finally:
        consumer.close(autocommit=False)
