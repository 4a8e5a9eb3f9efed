"""Acceptance: the example park's OPC UA DCS (the bundled simulator) -> the adapters process ->
Kafka, with values emitted before the adapter starts and while it is killed with SIGKILL and
restarted. Every value the simulator emitted is on nt.readings.v1 with its source timestamp and
value, none twice (the server's history fills what no subscription saw)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kafka_read
import pytest
import yaml
from testkit import ADAPTERS, SIMULATE

from ingest.contract import TOPIC_READINGS
from nengtan.settings import Settings
from nengtan.stack.procs import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
SPEED = 5  # one 5 s tick of each DCS per wall second


def _opcua_park(tmp: Path) -> tuple[Path, set[str]]:
    """The example park reduced to its OPC UA devices and their points, on a free port."""
    doc = yaml.safe_load((ROOT / "examples" / "park-small.yaml").read_text(encoding="utf-8"))
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/nengtan"
    devices: set[str] = set()
    for ent in doc["enterprises"]:
        ent["devices"] = [d for d in ent.get("devices", []) if d["protocol"] == "opcua"]
        for dev in ent["devices"]:
            dev["opcua"]["endpoint"] = endpoint
            devices.add(dev["id"])
        ent["points"] = [p for p in ent.get("points", []) if p.get("device") in devices]
        ent.pop("stacks", None)
    doc["enterprises"] = [e for e in doc["enterprises"] if e["devices"]]
    doc["faults"] = []
    path = tmp / "park.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path, devices


def _start_adapters(park: Path, env: dict[str, str], tmp: Path, name: str) -> Any:
    out = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [*ADAPTERS, str(park), "--only", "opcua", "--spool-dir", str(tmp / "spool")],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def test_values_before_start_and_during_a_sigkill_all_arrive_once(
    drained: Settings, tmp_path: Path
) -> None:
    park, devices = _opcua_park(tmp_path)
    env = dict(
        os.environ,
        NENGTAN_KAFKA_BOOTSTRAP=drained.bootstrap,
        NENGTAN_STATE_DIR=str(tmp_path / "state"),
        PYTHONUNBUFFERED="1",
    )
    # simulated time in the past (so every timestamp passes validation at any speed)
    start = (datetime.now(UTC) - timedelta(minutes=15)).replace(second=0, microsecond=0)
    start_ms = int(start.timestamp() * 1000)
    sim = subprocess.Popen(
        [
            *SIMULATE,
            str(park),
            "--duration",
            "40",
            "--speed",
            str(SPEED),
            "--start",
            start.isoformat().replace("+00:00", "Z"),
            "--log",
            str(tmp_path / "sim.jsonl"),
            "--clock",
            str(tmp_path / "clock.json"),
        ],
        env=env,
        stdout=open(tmp_path / "sim.log", "wb"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )
    adapters = None
    try:
        time.sleep(7)  # the DCS runs alone: these values exist only in its history
        assert sim.poll() is None, (tmp_path / "sim.log").read_text()[-2000:]
        first_ms = _wall_ms()
        adapters = _start_adapters(park, env, tmp_path, "adapters-1")
        time.sleep(8)
        assert adapters.poll() is None, (tmp_path / "adapters-1.log").read_text()[-2000:]
        killed_ms = _wall_ms()
        adapters.send_signal(signal.SIGKILL)
        adapters.wait(10)
        time.sleep(6)  # nobody subscribed
        restarted_ms = _wall_ms()
        adapters = _start_adapters(park, env, tmp_path, "adapters-2")
        assert sim.wait(90) == 0, (tmp_path / "sim.log").read_text()[-2000:]
        clock = json.loads((tmp_path / "clock.json").read_text(encoding="utf-8"))
        end_ms = start_ms + 40 * SPEED * 1000

        def sim_ms(wall_ms: int) -> int:
            return int(clock["start_ms"] + (wall_ms - clock["wall_start_ms"]) * clock["speed"])

        expected: dict[tuple[str, int], float] = {}
        for line in (tmp_path / "sim.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            # the final tick too: the DCS serves it a publish window longer before it stops
            if rec["type"] == "readings":
                for point, value in rec["values"].items():
                    expected[(point, rec["ts"])] = value
        before = [k for k in expected if k[1] < sim_ms(first_ms)]
        gap = [k for k in expected if sim_ms(killed_ms) < k[1] < sim_ms(restarted_ms)]
        assert len(before) >= 5 * len(devices) and len(gap) >= 5 * len(devices), (before, gap)

        def complete(records: list[dict[str, Any]]) -> bool:
            have = {(r["point"], r["ts"]) for b in records for r in b["readings"]}
            return set(expected) <= have

        got = kafka_read.read_topic(
            drained.bootstrap, TOPIC_READINGS, key_prefix="", until=complete, timeout_s=90
        )
    finally:
        if adapters is not None and adapters.poll() is None:
            adapters.send_signal(signal.SIGTERM)
            adapters.wait(30)
        if sim.poll() is None:
            sim.kill()
    # a batch Kafka had acknowledged but the killed process had not yet recorded as sent is
    # sent again from its spool (ingest.spool: at-least-once, ack position saved every 100 ms):
    # the identical record (device, seq, sent_ms, readings) is counted once; anything the
    # adapter itself handed over twice (a value read again from history) has another seq
    unique = {
        (b["_key"], b["seq"], b["sent_ms"], json.dumps(b["readings"])): b
        for b in got
        if b["_key"] in devices
    }
    readings = [r for b in unique.values() for r in b["readings"] if start_ms <= r["ts"] <= end_ms]
    seen = Counter((r["point"], r["ts"]) for r in readings)
    missing = sorted(set(expected) - set(seen))
    assert not missing, f"{len(missing)} of {len(expected)} emitted values missing: {missing[:5]}"
    twice = [k for k, n in seen.items() if n > 1]
    assert not twice, f"published twice: {twice[:5]}"
    wrong = [
        (key, r["value"], expected[key])
        for r in readings
        if (key := (r["point"], r["ts"])) in expected and r["value"] != expected[key]
    ]
    assert not wrong, f"values differ: {wrong[:5]}"
