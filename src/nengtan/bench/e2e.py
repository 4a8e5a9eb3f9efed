"""End-to-end levels: the gateway load at a set rate through MQTT → adapter → Kafka → stream
worker(s) and sink → PostgreSQL, with what was achieved measured from outside the pipeline.

- Throughput per stage from the consumer groups' committed offsets on ``nt.readings.v1``: the
  sink commits only after its database transaction (docs/streams.md), so its offsets count
  readings *stored*; the worker's count readings *processed* (consumption, emissions, alerts
  sent). Sustained end to end = the smaller of the two, over the level's measuring window,
  provided neither backlog grew.
- Latency reading → database row: a probe polls the newest stored reading of one point per
  gateway every ``POLL_S``; latency = the instant it first sees a reading − the reading's
  timestamp (the driver stamps each batch when it publishes it). Resolution ±``POLL_S``/2.
- Latency reading → alert: the instant the probe first sees the raised
  ``point-counter-anomaly`` alert of a reset alarm point − the reset reading's timestamp.
- Stream worker memory: resident set size of each worker process, sampled every second; its
  CPU use over the window (cores), and the machine's load average, to tell a worker that is
  busy from one that is starved or waiting.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from nengtan.bench.load import BenchPark, Driver

POLL_S = 0.1
TOPIC = "nt.readings.v1"


@dataclass
class Level:
    """One load level's figures."""

    offered_per_s: float
    seconds: float
    published_per_s: float = 0.0
    stored_per_s: float = 0.0
    processed_per_s: float = 0.0
    sink_lag_growth: int = 0
    worker_lag_growth: int = 0
    kept_up: bool = False
    row_latency_s: dict[str, float] = field(default_factory=dict)
    alert_latency_s: dict[str, float] = field(default_factory=dict)
    worker_rss_mb: dict[str, float] = field(default_factory=dict)
    worker_cpu_cores: float = 0.0
    """CPU seconds the worker process(es) used per second of the window (1.0 = one core)."""
    load_avg_1m: float = 0.0
    """The machine's 1-minute load average at the window's end (everything, not only us)."""

    @property
    def end_to_end_per_s(self) -> float:
        return min(self.stored_per_s, self.processed_per_s)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "end_to_end_per_s": self.end_to_end_per_s}


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p99 and max (seconds); empty when nothing was measured."""
    if not values:
        return {}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"p50": statistics.median(ordered), "p99": p99, "max": ordered[-1], "n": len(ordered)}


class Offsets:
    """Committed offsets of the pipeline's consumer groups, and the topic's end offsets."""

    def __init__(self, bootstrap: str) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer

        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="nengtan-bench")
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, client_id="nengtan-bench-end", enable_auto_commit=False
        )

    def committed(self, group: str) -> int:
        offsets = self.admin.list_group_offsets(group).get(group, {})
        return sum(o.offset for tp, o in offsets.items() if tp.topic == TOPIC and o.offset >= 0)

    def end(self) -> int:
        from kafka import TopicPartition

        parts = self.consumer.partitions_for_topic(TOPIC) or set()
        ends = self.consumer.end_offsets([TopicPartition(TOPIC, p) for p in parts])
        return int(sum(ends.values()))

    def close(self) -> None:
        self.admin.close()
        self.consumer.close()


class Probe:
    """Polls the database for the probe points' newest readings and the alarm alerts."""

    def __init__(self, dsn: str, park: BenchPark, driver: Driver, worker_pids: list[int]) -> None:
        self.dsn, self.park, self.driver, self.worker_pids = dsn, park, driver, worker_pids
        self.row_latency: list[float] = []
        self.alert_latency: list[float] = []
        self.rss_mb: list[float] = []
        self._seen_alerts: set[str] = set()
        self._newest: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def reset(self) -> None:
        self.row_latency, self.alert_latency, self.rss_mb = [], [], []

    def _run(self) -> None:
        probes = self.park.probes()
        last_rss = 0.0
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT point, (extract(epoch FROM max(ts)) * 1000)::bigint FROM readings_raw"
                    " WHERE point = ANY(%s) AND ts > now() - interval '1 minute' GROUP BY point",
                    (probes,),
                ).fetchall()
                now_ms = time.time_ns() // 1_000_000
                for point, ts in rows:
                    if ts is not None and ts > self._newest.get(point, 0):
                        if point in self._newest:
                            self.row_latency.append((now_ms - ts) / 1000)
                        self._newest[point] = ts
                pending = [p for p in self.driver.resets if p not in self._seen_alerts]
                if pending:
                    got = conn.execute(
                        "SELECT DISTINCT scope FROM alerts WHERE rule_id = 'point-counter-anomaly'"
                        " AND state = 'raised' AND scope = ANY(%s)",
                        ([f"point:{p}" for p in pending],),
                    ).fetchall()
                    for (scope,) in got:
                        point = scope.split(":", 1)[1]  # alert scopes are "point:{id}"
                        self._seen_alerts.add(point)
                        self.alert_latency.append((now_ms - self.driver.resets[point]) / 1000)
                if time.monotonic() - last_rss >= 1.0:
                    self.rss_mb.append(sum(rss_mb(pid) for pid in self.worker_pids))
                    last_rss = time.monotonic()
                self._stop.wait(POLL_S)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_mb(pid: int) -> float:
    """Resident set size of a process (MB), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_level(
    rate_per_s: float,
    *,
    warmup_s: float,
    measure_s: float,
    park: BenchPark,
    driver: Driver,
    probe: Probe,
    offsets: Offsets,
    sink_group: str,
    worker_group: str,
) -> Level:
    """Drive ``rate_per_s`` readings/s for ``warmup_s`` + ``measure_s`` and measure the window."""
    total_points = park.devices * park.points
    driver.interval_s = total_points / rate_per_s
    time.sleep(warmup_s)
    per_msg = driver.published_readings / max(driver.published_messages, 1)
    pub0 = driver.published_readings
    sink0, work0, end0 = offsets.committed(sink_group), offsets.committed(worker_group), offsets.end()
    probe.reset()
    cpu0 = sum(cpu_s(pid) for pid in probe.worker_pids)
    t0 = time.monotonic()
    time.sleep(measure_s)
    seconds = time.monotonic() - t0
    cpu1 = sum(cpu_s(pid) for pid in probe.worker_pids)
    sink1, work1, end1 = offsets.committed(sink_group), offsets.committed(worker_group), offsets.end()
    level = Level(offered_per_s=rate_per_s, seconds=seconds)
    level.worker_cpu_cores = (cpu1 - cpu0) / seconds
    level.load_avg_1m = os.getloadavg()[0]
    level.published_per_s = (driver.published_readings - pub0) / seconds
    level.stored_per_s = (sink1 - sink0) * per_msg / seconds
    level.processed_per_s = (work1 - work0) * per_msg / seconds
    level.sink_lag_growth = (end1 - sink1) - (end0 - sink0)
    level.worker_lag_growth = (end1 - work1) - (end0 - work0)
    level.row_latency_s = percentiles(probe.row_latency)
    level.alert_latency_s = percentiles(probe.alert_latency)
    if probe.rss_mb:
        level.worker_rss_mb = {"first": probe.rss_mb[0], "last": probe.rss_mb[-1],
                               "max": max(probe.rss_mb)}  # fmt: skip
    # kept up: the window's backlog grew by less than two seconds of the offered load
    allowed = 2 * rate_per_s / per_msg
    level.kept_up = (
        level.sink_lag_growth < allowed
        and level.worker_lag_growth < allowed
        and level.published_per_s > 0.9 * rate_per_s
    )
    return level
