"""``streams.seek_guard``: the order of calls on a stand-in consumer; then a real worker
restarted onto a backlog, which processes every message from its committed offsets and keeps
committing, with the seek at the end of the rebalance slowed down so that faust-streaming's
window between resuming and seeking the partitions is wide open.

Unguarded, the same run is expected to go wrong (strict xfail): if a faust-streaming release
fixes the order, the xfail passes, fails the suite, and the guard can go."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError

from nengtan.settings import Settings
from streams.seek_guard import hold_until_seek

APP = Path(__file__).parents[1] / "_support" / "seek_window_app.py"
SRC = Path(__file__).parents[2] / "src"
FIRST, BACKLOG = 500, 12_000
PARTITIONS = 2


class TP(NamedTuple):
    topic: str
    partition: int


class Consumer:
    """Records the partitions resumed, and what was resumed when the seek ran."""

    def __init__(self, assigned: set[TP]) -> None:
        self.assigned = assigned
        self.resumed: list[set[TP]] = []
        self.resumed_at_seek: list[set[TP]] | None = None

    def assignment(self) -> set[TP]:
        return self.assigned

    def resume_partitions(self, tps: set[TP]) -> None:
        self.resumed.append(set(tps))

    async def perform_seek(self) -> None:
        self.resumed_at_seek = [set(s) for s in self.resumed]


IN0, IN1, LOG0 = TP("in", 0), TP("in", 1), TP("app-table-changelog", 0)


def test_inputs_resume_only_after_the_seek_and_others_at_once() -> None:
    c = Consumer({IN0, IN1, LOG0})
    hold_until_seek(c, {"in"})
    c.resume_partitions({IN0, IN1, LOG0})
    assert c.resumed == [{LOG0}]  # the changelog at once, the inputs held
    asyncio.run(c.perform_seek())
    assert c.resumed_at_seek == [{LOG0}]  # nothing of the inputs was resumed before the seek
    assert c.resumed == [{LOG0}, {IN0, IN1}]
    asyncio.run(c.perform_seek())  # a later seek with nothing held resumes nothing more
    assert c.resumed == [{LOG0}, {IN0, IN1}]


def test_a_partition_revoked_before_the_seek_is_not_resumed() -> None:
    c = Consumer({IN0, IN1})
    hold_until_seek(c, {"in"})
    c.resume_partitions({IN0, IN1})
    c.assigned = {IN1}
    asyncio.run(c.perform_seek())
    assert c.resumed == [set(), {IN1}]


def test_installed_once() -> None:
    c = Consumer({IN0})
    hold_until_seek(c, {"in"})
    hold_until_seek(c, {"in"})
    c.resume_partitions({IN0})
    asyncio.run(c.perform_seek())
    assert c.resumed == [set(), {IN0}]


def _produce(bootstrap: str, topic: str, start: int, n: int) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    for i in range(start, start + n):
        producer.send(topic, key=str(i).encode(), value=b"x" * 200, partition=i % PARTITIONS)
    producer.flush()
    producer.close()


def _processed(bootstrap: str, topic: str) -> set[tuple[int, int]]:
    """Every ``(partition, offset)`` of the input the worker reported processing."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=2000)  # fmt: skip
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    seen: set[tuple[int, int]] = set()
    for rec in consumer:
        p, o = rec.value.decode().split(":")
        seen.add((int(p), int(o)))
    consumer.close()
    return seen


def _lag(bootstrap: str, group: str, topic: str) -> int | None:
    """Messages of ``topic`` past the group's committed offsets (None: not known yet, e.g. the
    group's coordinator is still being set up)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    probe = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = probe.end_offsets(tps)
        try:
            done = admin.list_group_offsets({group: tps})[group]
        except KafkaError:
            return None
        return sum(ends[tp] - (done[tp].offset if tp in done else 0) for tp in tps)
    finally:
        probe.close()
        admin.close()


def _wait(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1.0)
    return False


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(
    "guard",
    [
        pytest.param(True, id="guarded"),
        pytest.param(False, id="unguarded",
                     marks=pytest.mark.xfail(strict=True, reason="faust-streaming resumes "
                                             "stream partitions before it seeks them")),
    ],
)  # fmt: skip
def test_restart_onto_backlog_processes_everything_and_commits(
    drained: Settings, tmp_path: Path, guard: bool
) -> None:
    bootstrap = drained.bootstrap
    run = uuid.uuid4().hex[:8]
    group, src, out = f"sw{run}", f"sw.{run}.in", f"sw.{run}.out"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(src, PARTITIONS, 1), NewTopic(out, 1, 1)])
    admin.close()
    env = dict(os.environ, SW_BOOTSTRAP=bootstrap, SW_APP_ID=group, SW_IN=src, SW_OUT=out,
               SW_DATADIR=str(tmp_path / "data"), SW_GUARD="1" if guard else "0",
               PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))  # fmt: skip
    log = (tmp_path / "worker.log").open("ab")

    def start(delay_s: float) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(APP), "worker", "-l", "info"],
                                env=dict(env, SW_SEEK_DELAY_S=str(delay_s)),
                                stdout=log, stderr=log)  # fmt: skip

    _produce(bootstrap, src, 0, FIRST)
    worker = start(0.0)
    try:
        assert _wait(lambda: _lag(bootstrap, group, src) == 0, 120), "no first commit"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        _produce(bootstrap, src, FIRST, BACKLOG)
        worker = start(3.5)  # the window spans a commit (every 2.8 s)
        caught_up = _wait(lambda: _lag(bootstrap, group, src) == 0, 90)
        lag = _lag(bootstrap, group, src)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    probe = KafkaConsumer(bootstrap_servers=bootstrap)
    ends = probe.end_offsets([TopicPartition(src, p) for p in range(PARTITIONS)])
    probe.close()
    expected = {(tp.partition, o) for tp, end in ends.items() for o in range(end)}
    missing = sorted(expected - _processed(bootstrap, out))
    assert not missing, f"{len(missing)} input messages never processed, e.g. {missing[:5]}"
    assert caught_up, f"the group stopped committing {lag} messages short of the end"
