"""Simulated meters on the simulated clock, the adapters as a process, the session's Kafka:
every sample the simulator logged for a Modbus device is on nt.readings.v1 with the same value
and device timestamp, also when the adapter is killed (SIGKILL) for a few simulated minutes and
restarted (it continues from the sequences in its state dir)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import kafka_read
import pytest
import yaml

from ingest.contract import TOPIC_READINGS
from ingest.park.loader import parse_park
from nengtan.settings import Settings
from simulators.clock import SimClock
from simulators.runner import RunOptions, Simulation

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
SPEED = 30.0
RUN_S = 30.0
ADAPTERS = [
    sys.executable,
    "-m",
    "adapters",
    "--interval",
    "1",
]  # wall seconds of simulation: 15 simulated minutes


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sim_fixtures = _load("simulators_fixtures", ROOT / "tests" / "simulators" / "conftest.py")


class PacedSimulation:
    """The simulation in a thread on its own loop, advanced with its clock like ``run()``, but
    its servers stay up after the last tick until ``finish()`` (so the adapter can still read
    the samples of the last seconds; a comparison then needs no tail exemption)."""

    def __init__(self, sim: Simulation, speed: float, run_s: float) -> None:
        self.sim = sim
        self.speed = speed
        self.run_s = run_s
        self.ready = threading.Event()
        self.ticked = threading.Event()  # the simulated run is over
        self._finish = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._thread, daemon=True)
        self.thread.start()
        assert self.ready.wait(30), "simulation did not set up"
        if self.error:
            raise self.error

    def _thread(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to the test
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        sim = self.sim
        await sim.setup()
        self.ready.set()
        clock = SimClock(sim.options.start_ms, self.speed)
        end = sim.options.start_ms + round(self.run_s * self.speed * 1000)
        try:
            while True:
                now = min(int(clock.now_ms()), end)
                await sim.advance(now)
                if now >= end:
                    break
                await asyncio.sleep(0.05)
            sim.log.flush()  # the whole emission log, readable while the servers still serve
            self.ticked.set()
            while not self._finish.is_set():
                await asyncio.sleep(0.1)
        finally:
            await sim.teardown()

    def finish(self) -> None:
        self._finish.set()
        self.thread.join(30)


def _adapters(park: Path, env: dict[str, str], tmp: Path, name: str) -> subprocess.Popen[bytes]:
    out = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [*ADAPTERS, str(park), "--only", "modbus", "--spool-dir", str(tmp / "spool")],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("kill", [False, True], ids=["steady", "sigkill"])
def test_every_logged_modbus_sample_is_on_kafka(
    drained: Settings, tmp_path: Path, kill: bool
) -> None:
    doc = sim_fixtures.example_doc(("modbus",))
    park_file = tmp_path / "park.yaml"
    park_file.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    park = parse_park(doc)
    # an hour ago: at 30x the simulated clock stays behind the wall clock (validation allows
    # 5 minutes ahead), on 10 s boundaries
    start_ms = (time.time_ns() // 1_000_000 - 3_600_000) // 10_000 * 10_000
    log = tmp_path / "sim.jsonl"
    env = dict(os.environ)
    env.update(
        NENGTAN_KAFKA_BOOTSTRAP=drained.bootstrap,
        NENGTAN_STATE_DIR=str(tmp_path / "state"),
        PYTHONUNBUFFERED="1",
    )
    sim = PacedSimulation(
        Simulation(park, RunOptions(start_ms=start_ms, seed=7, log_path=log)), SPEED, RUN_S
    )
    adapters = _adapters(park_file, env, tmp_path, "adapters-1")
    devices = {d.id for d in park.index.devices.values()}
    try:
        if kill:
            time.sleep(8)
            assert adapters.poll() is None, (tmp_path / "adapters-1.log").read_text()[-2000:]
            adapters.send_signal(signal.SIGKILL)
            adapters.wait(10)
            time.sleep(8)  # 4 simulated minutes: 24 samples of a 10 s meter, the ring holds 128
            adapters = _adapters(park_file, env, tmp_path, "adapters-2")
        assert sim.ticked.wait(RUN_S + 30)
        logged: list[tuple[str, int, float]] = []
        for line in log.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["type"] == "readings":
                logged += [(p, rec["ts"], v) for p, v in rec["values"].items()]
        needed = {(p, ts) for p, ts, _v in logged}

        def complete(records: list[dict[str, Any]]) -> bool:
            have = {(r["point"], r["ts"]) for b in records for r in b["readings"]}
            return needed <= have

        got = kafka_read.read_topic(
            drained.bootstrap, TOPIC_READINGS, key_prefix="", until=complete, timeout_s=90
        )
        status = json.loads((tmp_path / "spool" / "status.json").read_text(encoding="utf-8"))
    finally:
        adapters.send_signal(signal.SIGTERM)
        adapters.wait(60)
        sim.finish()
    mine = [b for b in got if b["_key"] in devices]
    published: dict[tuple[str, int], list[float]] = {}
    for batch in mine:
        assert {"acme", "hengli"} >= {batch["device"].split("-")[0]}
        for r in batch["readings"]:
            assert r["q"] == "good"
            published.setdefault((r["point"], r["ts"]), []).append(r["value"])
    assert len(logged) > 1_000
    missing = [e for e in logged if (e[0], e[1]) not in published]
    assert not missing, f"{len(missing)} of {len(logged)} logged samples missing: {missing[:5]}"
    wrong = [(e, published[(e[0], e[1])]) for e in logged if set(published[(e[0], e[1])]) != {e[2]}]
    assert not wrong, f"values differ: {wrong[:5]}"
    extra = set(published) - {(p, ts) for p, ts, _v in logged}
    assert not extra, f"published but never logged: {sorted(extra)[:5]}"
    # a restart re-sends at most what the killed process handed over after its last save: one
    # poll's samples per device (2.5 wall s × 30 = 75 simulated s: 8 of a 10 s meter), not the
    # dozens still in the ring a restart without the saved sequences would read again
    counts = Counter({k: len(v) for k, v in published.items()})
    assert max(counts.values()) <= (2 if kill else 1)
    device_of = {p.id: p.device for p in park.index.points.values()}
    resent: dict[str, set[int]] = {}
    for (point, ts), n in counts.items():
        if n > 1:
            resent.setdefault(str(device_of[point]), set()).add(ts)
    assert all(len(ts) <= 9 for ts in resent.values()), {d: len(t) for d, t in resent.items()}
    if kill:
        saved = json.loads(
            (tmp_path / "state" / "adapters" / park.id / "modbus-sequences.json").read_text()
        )
        assert set(saved) == devices
    assert status["adapters"]["modbus"]["lost_samples"] == 0
