"""Fixtures of the stream tests: fresh databases on the session's PostgreSQL, and a runner for
``nengtan worker`` / ``nengtan sink`` processes pointed at the session stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from supervised import RESTART_ME, Supervised

from nengtan.settings import Settings

LAUNCHER = (
    "import sys, nengtan.cli as c; "
    "c.COMMAND_MODULES = ('streams.cli', 'store.cli', 'simulators.cli', 'adapters.cli'); "
    "c.main(sys.argv[1:])"
)
"""``nengtan`` with only the command groups these tests run, so a package elsewhere in the
tree that is not importable does not stop them."""


class Procs:
    """Starts ``nengtan`` subcommands against the session stack; kills what is left at the end."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.running: list[Any] = []
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    def supervised(self, name: str, args: list[str], dsn: str | None = None) -> Supervised:
        """Like ``start``, under a supervisor thread that restarts an exit with status 75."""
        proc = Supervised(name, lambda: self._popen(name, args, dsn))
        self.running.append(proc)
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, daemon=True)
            self._supervisor.start()
        return proc

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            for proc in list(self.running):
                if isinstance(proc, Supervised):
                    proc.check()

    def restarts(self) -> dict[str, int]:
        """Restarts by the supervisor so far, by process name."""
        out: dict[str, int] = {}
        for proc in self.running:
            if isinstance(proc, Supervised):
                out[proc.name] = out.get(proc.name, 0) + proc.restarts
        return out

    def start(self, name: str, args: list[str], dsn: str | None = None) -> subprocess.Popen[bytes]:
        proc = self._popen(name, args, dsn)
        self.running.append(proc)
        return proc

    def _popen(self, name: str, args: list[str], dsn: str | None) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env.update(
            NENGTAN_KAFKA_BOOTSTRAP=self.settings.bootstrap,
            NENGTAN_KAFKA_PARTITIONS=str(self.settings.kafka_partitions),
            NENGTAN_STATE_DIR=str(self.log_dir / "state"),
            NENGTAN_MQTT_URL="mqtt://{}:{}".format(*self.settings.mqtt_host_port),
        )
        if dsn is not None:
            env["NENGTAN_PG_DSN"] = dsn
        log = (self.log_dir / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, *args], env=env, stdout=log, stderr=log
        )

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no shutdown hooks, no final commit."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def wait_caught_up(self, group: str, topics: tuple[str, ...], timeout_s: float = 240.0) -> None:
        """Wait until consumer group ``group`` has committed the end offset of every partition of
        ``topics`` (it has processed everything written so far)."""
        import time

        from kafka import KafkaConsumer, TopicPartition
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.settings.bootstrap)
        probe = KafkaConsumer(bootstrap_servers=self.settings.bootstrap, enable_auto_commit=False)
        try:
            parts = [
                TopicPartition(t, p)
                for t in topics
                for p in sorted(probe.partitions_for_topic(t) or ())
            ]
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                ends = probe.end_offsets(parts)
                # a partition the group never committed on counts from its first record still
                # there (the topics were drained: the offsets before it are gone)
                first = probe.beginning_offsets(parts)
                done = admin.list_group_offsets({group: parts})[group]
                lag = sum(ends[tp] - max(done[tp].offset if tp in done else 0, first[tp])
                          for tp in parts)  # fmt: skip
                if lag <= 0:
                    return
                time.sleep(1.0)
            raise AssertionError(f"consumer group {group} still {lag} records behind on {topics}")
        finally:
            probe.close()
            admin.close()

    def stop_all(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        for proc in self.running:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
        restarts = {name: n for name, n in self.restarts().items() if n}
        if restarts:  # allowed (the deployment restarts too), never silent: the summary shows it
            warnings.warn(f"restarted after exit {RESTART_ME} (see the logs): {restarts}",
                          stacklevel=1)  # fmt: skip
        # the tail of every process log: pytest shows it with a failure's report
        for log in sorted(self.log_dir.glob("*.log")):
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            print(f"---- {log.name} (last 25 of {len(lines)} lines)")
            print("\n".join(line[:300] for line in lines[-25:]))


@pytest.fixture
def procs(drained: Settings, tmp_path: Path) -> Iterator[Procs]:
    """A process runner on the session stack, its topics drained of earlier tests' records."""
    p = Procs(drained, tmp_path)
    yield p
    p.stop_all()
