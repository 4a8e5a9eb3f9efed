"""One simulated pipeline run on a running stack: park copy, simulators, adapters, stream
worker, sink (and optionally the console) as child processes; orderly drain; reconciliation.

``nengtan demo`` and the fault suite (``tests/faults/``) both drive runs through this class,
so the demo's verdict and the suite's assertion are the same computation.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from nengtan.demo.children import Children, child_env
from nengtan.demo.reconcile import Verdict, reconcile
from nengtan.errors import ServiceError
from nengtan.settings import Settings
from nengtan.stack.procs import free_port

log = logging.getLogger(__name__)

FIXED_PORTS = re.compile(r"(?:(?<=port: )|(?<=127\.0\.0\.1:))(\d+)\b")
"""Loopback ports a park file names for its simulated Modbus and OPC UA servers."""


def park_copy(src: Path, dest: Path, suffix: str = "") -> Path:
    """The park with each of its server ports replaced by a free one, so the run never polls
    another run's simulators; with ``suffix``, its enterprise and park ids too (runs that share
    Kafka topics then never mix readings)."""
    text = src.read_text(encoding="utf-8")
    ports = {p: str(free_port()) for p in sorted(set(FIXED_PORTS.findall(text)))}
    text = FIXED_PORTS.sub(lambda m: ports[m.group(1)], text)
    if suffix:
        ids = re.findall(r"^  - id: ([a-z][\w-]*)\s*$", text, flags=re.M)
        park_id = re.search(r"^id: ([\w-]+)", text, flags=re.M)
        names = [*ids, *([park_id.group(1)] if park_id else [])]
        pattern = r"\b(" + "|".join(re.escape(n) for n in names) + r")\b"
        text = re.sub(pattern, rf"\g<1>{suffix}", text)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest


def group_lag(bootstrap: str, group: str) -> int | None:
    """Messages not yet consumed by ``group`` on the partitions it has committed offsets for;
    None when it has committed nothing yet or Kafka does not answer."""
    from kafka import KafkaAdminClient, KafkaConsumer

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="nengtan-drain")
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, client_id="nengtan-drain", enable_auto_commit=False
        )
    except Exception:
        return None
    try:
        committed = {
            tp: o.offset
            for tp, o in admin.list_group_offsets(group).get(group, {}).items()
            if o.offset >= 0
        }
        if not committed:
            return None
        ends = consumer.end_offsets(list(committed))
        return int(sum(ends[tp] - off for tp, off in committed.items()))
    except Exception:
        return None
    finally:
        admin.close()
        consumer.close()


def query(dsn: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]


@dataclass
class Pipeline:
    """A run: ``start``, optionally kill/restart children, ``finish``, ``reconcile``."""

    settings: Settings
    dsn: str
    park_src: Path
    work_dir: Path
    speed: float = 60.0
    run_id: str = "demo"
    suffix: str = ""
    console_port: int | None = None
    children: Children = field(init=False)
    park_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.park_file = park_copy(self.park_src, self.work_dir / "park.yaml", self.suffix)
        env = child_env(
            self.settings.bootstrap, self.dsn, self.settings.mqtt_host_port,
            self.work_dir / "state", self.settings.kafka_partitions,
        )  # fmt: skip
        if self.settings.mqtt_auth:
            # the park's gateway accounts on the stack's broker; children read the logins from
            # the stack's secrets file (their own state dir is the run's)
            from ingest.park import load_park
            from nengtan.mqttauth.store import secrets_file
            from nengtan.stack.mosquitto import MosquittoService

            MosquittoService(self.settings).provision(load_park(self.park_file))
            env["NENGTAN_MQTT_SECRETS_FILE"] = str(secrets_file(self.settings))
            env["NENGTAN_MQTT_AUTH"] = "1"
        if self.settings.opcua_security:
            # the children share one CA (their state dir): made once, before any of them runs
            from nengtan.pki import init_pki

            init_pki(self.work_dir / "state")
            env["NENGTAN_OPCUA_SECURITY"] = "1"
        self.children = Children(env, self.work_dir / "logs")

    @property
    def truth_file(self) -> Path:
        return self.work_dir / "truth.json"

    @property
    def log_file(self) -> Path:
        return self.work_dir / "emitted.jsonl"


    def start(self, duration_s: float | None) -> None:
        """Worker, sink (and console), then the adapters, then the simulators once the MQTT
        adapter is subscribed: a gateway's or stack's first messages must find a subscriber
        (the broker keeps nothing for a session that does not exist yet)."""
        from store.migrate import migrate

        migrate(self.dsn)
        park = str(self.park_file)
        # static membership: a worker restarted after a crash takes its partitions back at once
        self.children.start("worker", ["worker", park, "--app-id", f"nt-{self.run_id}-worker",
                                       "--instance-id", f"nt-{self.run_id}-worker-1"])  # fmt: skip
        self.children.start("sink", ["sink", "--group-id", f"nt-{self.run_id}-sink"])
        if self.console_port is not None:
            self.children.start("console", ["console", "--park", park,
                                            "--port", str(self.console_port)])  # fmt: skip
        self.children.start("adapters-mqtt", ["adapters", park, "--only", "mqtt",
                                              "--spool-dir", str(self.spool_dir("mqtt"))])  # fmt: skip
        self._wait_until(self._mqtt_subscribed, "adapters-mqtt", 90.0, "MQTT subscription")
        sim = ["simulate", park, "--speed", str(self.speed), "--truth", str(self.truth_file),
               "--log", str(self.log_file), "--clock", str(self.work_dir / "clock.json")]  # fmt: skip
        if duration_s is not None:
            sim += ["--duration", str(duration_s)]
        self.children.start("simulate", sim)
        self._wait_until((self.work_dir / "clock.json").exists, "simulate", 60.0, "clock.json")
        # the pollers read the meters' load-profile rings (device time) and the OPC UA
        # servers' history, so what was emitted before they connect is read all the same
        self.children.start("adapters-poll", ["adapters", park, "--only", "modbus,opcua",
                                              "--spool-dir", str(self.spool_dir("poll"))])  # fmt: skip
        time.sleep(2.0)
        if self.dead():
            name = self.dead()[0]
            raise ServiceError(f"{name} exited at start:\n{self.children.log_tail(name)}")

    ADAPTERS = ("adapters-mqtt", "adapters-poll")
    """Two adapter processes: the MQTT subscriber starts before the simulators, the Modbus and
    OPC UA pollers after them; each has its own spool."""

    def spool_dir(self, which: str) -> Path:
        return self.work_dir / "state" / f"adapters-{which}"

    def adapter_status(self) -> list[dict[str, Any]]:
        """The adapters' ``status.json`` documents (written beside each spool every second)."""
        out = []
        for which in ("mqtt", "poll"):
            try:
                out.append(json.loads((self.spool_dir(which) / "status.json").read_text("utf-8")))
            except (OSError, ValueError):
                continue
        return out

    def _mqtt_subscribed(self) -> bool:
        return any(s.get("adapters", {}).get("mqtt", {}).get("connected") for s in self.adapter_status())

    def _wait_until(self, ready: Callable[[], bool], child: str, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if not self.children.by_name[child].alive:
                raise ServiceError(f"{child} exited early:\n{self.children.log_tail(child)}")
            if time.monotonic() > deadline:
                raise ServiceError(f"{child}: no {what} after {timeout_s:.0f} s")
            time.sleep(0.2)

    def dead(self) -> list[str]:
        """Children other than the simulators that are no longer running."""
        return [n for n, c in self.children.by_name.items() if n != "simulate" and not c.alive]

    def revive(self, names: Collection[str] | None = None) -> list[str]:
        """Start again the children that exited (of ``names``; default: all but the
        simulators), as a supervisor would: a worker exits 75 to be restarted."""
        dead = [n for n in self.dead() if names is None or n in names]
        for name in dead:
            log.warning("%s exited; restarting it", name)
            self.children.restart(name)
        return dead

    @property
    def simulating(self) -> bool:
        return self.children.by_name["simulate"].alive

    def finish(self, quiet_s: float = 10.0, timeout_s: float = 300.0) -> None:
        """Stop the simulators (truth written), let the adapters poll and drain, wait until the
        database stops changing, then stop the workers and the sink."""
        self.children.stop("simulate", timeout_s=60.0)
        if not self.truth_file.exists():
            raise ServiceError(f"simulate wrote no truth file:\n{self.children.log_tail('simulate')}")
        time.sleep(2.0)  # a last poll of the final values
        for name in self.ADAPTERS:
            self.children.stop(name, timeout_s=60.0)
        self.settle(quiet_s, timeout_s)

    def settle(self, quiet_s: float = 10.0, timeout_s: float = 300.0) -> None:
        """Wait until the worker and the sink have consumed everything on their topics and the
        stored figures have not changed for ``quiet_s`` (a restarted consumer may sit idle
        for a while until its group rebalances, so quiet alone is not enough)."""
        deadline = time.monotonic() + timeout_s
        last: tuple[Any, ...] | None = None
        since = time.monotonic()
        groups = (f"nt-{self.run_id}-worker", f"nt-{self.run_id}-sink")
        while time.monotonic() < deadline:
            self.revive(("worker", "sink"))
            now = (self.fingerprint(), tuple(group_lag(self.settings.bootstrap, g) for g in groups))
            if now != last:
                last, since = now, time.monotonic()
            elif all(lag == 0 for lag in now[1]) and time.monotonic() - since >= quiet_s:
                return
            time.sleep(1.0)
        raise ServiceError(f"the pipeline did not drain within {timeout_s:.0f} s (lag {last})")

    def fingerprint(self) -> tuple[Any, ...]:
        """Row counts and totals that change while anything is still flowing."""
        try:
            return query(self.dsn, "SELECT (SELECT count(*) FROM readings_raw),"
                                   " (SELECT count(*) FROM consumption),"
                                   " (SELECT coalesce(sum(quantity), 0) FROM consumption),"
                                   " (SELECT count(*) FROM cems_hourly),"
                                   " (SELECT count(*) FROM alerts)")[0]  # fmt: skip
        except psycopg.OperationalError:
            return ("database unavailable", time.monotonic())

    def truth(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.truth_file.read_text(encoding="utf-8"))
        return data

    def reconcile(self, **options: Any) -> Verdict:
        """``nengtan.demo.reconcile.reconcile`` on this run."""
        return reconcile(self.dsn, self.park_file, self.truth(), self.log_file, **options)

    def stop(self) -> None:
        self.children.stop_all()
