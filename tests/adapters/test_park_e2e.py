"""Acceptance: simulators -> adapters -> Kafka for the example park, under a Kafka outage and an
adapter killed with SIGKILL during it. Everything the simulators emitted (their ``--log``) must
be in nt.readings.v1 with the same value and timestamp, nothing twice beyond what the
simulator itself duplicated.

Modbus points are exact too: the meters keep a load-profile ring and the adapter hands over
every sample with its device time, continuing after a restart from the sequences in its state
dir. Only samples written in the last poll interval before the simulator stops its servers
(at most 7.5 s: a quarter of the slowest meter's 30 s) may be unread, as no poll follows them.
OPC UA points are exact in both runs: the restarted adapter reads the changes no one was
subscribed to from the DCS's history.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kafka_read
import pytest
import yaml
from testkit import ADAPTERS, SIMULATE

from ingest.contract import TOPIC_READINGS
from nengtan.stack.procs import free_port

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "park-small.yaml"


def _park_copy(tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The example park on free ports (tests must not collide with anything running)."""
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    ports: dict[int, int] = {}
    endpoints: dict[str, str] = {}
    for ent in doc["enterprises"]:
        for dev in ent.get("devices", []):
            if "modbus" in dev:
                old = dev["modbus"]["port"]
                dev["modbus"]["port"] = ports.setdefault(old, free_port())
            if "opcua" in dev:
                old_ep = dev["opcua"]["endpoint"]
                if old_ep not in endpoints:
                    endpoints[old_ep] = f"opc.tcp://127.0.0.1:{free_port()}/nengtan"
                dev["opcua"]["endpoint"] = endpoints[old_ep]
    path = tmp / "park.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path, doc


def _env(settings: Any, state: Path) -> dict[str, str]:
    host, port = settings.mqtt_host_port
    env = dict(os.environ)
    env.update(
        NENGTAN_KAFKA_BOOTSTRAP=settings.bootstrap,
        NENGTAN_MQTT_URL=f"mqtt://{host}:{port}",
        NENGTAN_STATE_DIR=str(state),
        PYTHONUNBUFFERED="1",
    )
    return env


def _adapters(park: Path, env: dict[str, str], tmp: Path, name: str) -> subprocess.Popen[bytes]:
    out = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [*ADAPTERS, str(park), "--spool-dir", str(tmp / "spool"), "--interval", "1"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _expected(log: Path, doc: dict[str, Any], end_ms: int) -> tuple[set[Any], set[str], set[str]]:
    """(timestamped (point, ts, value) expected, Modbus points, duplicated sources).

    OPC UA changes while no adapter is subscribed (and those a killed process held for its
    next flush) are read by the restarted adapter from the DCS's history, and the DCS serves
    its final tick a publish window longer before it stops: all expected. A Modbus meter's ring
    holds its last 128 samples, so the restarted adapter reads what it missed; only the samples
    of the last poll interval before the servers stop are not expected. MQTT (persistent
    session, acked after spooling) loses nothing.
    """
    protocol = {d["id"]: d["protocol"] for e in doc["enterprises"] for d in e.get("devices", [])}
    exact: set[tuple[str, int, float]] = set()
    modbus: set[str] = set()
    dup_sources = {f["target"] for f in doc.get("faults", []) if f["kind"] == "duplicate"}
    for line in log.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["type"] == "readings":
            proto = protocol[rec["src"]]
            for point, value in rec["values"].items():
                if proto == "modbus" and rec["t"] > end_ms - 8_000:
                    continue  # written after the last poll before the servers stop
                exact.add((point, rec["ts"], value))
                if proto == "modbus":
                    modbus.add(point)
        elif rec["type"] == "cems":
            for species, value in rec["values"].items():
                exact.add((f"{rec['src']}.{species}", rec["ts"], value))
    return exact, modbus, dup_sources


def _check(
    got: list[dict[str, Any]],
    exact: set[Any],
    dup_sources: set[str],
    *,
    resent: Collection[str] = (),
) -> None:
    """Every expected reading once with its value; ``resent``: sources a restart may re-send
    one poll of (a Modbus ring read the killed adapter handed over but had not yet saved)."""
    seen: Counter[tuple[str, int]] = Counter()
    values: dict[tuple[str, int], float] = {}
    source_of: dict[str, str] = {}
    for batch in got:
        for r in batch["readings"]:
            seen[(r["point"], r["ts"])] += 1
            values[(r["point"], r["ts"])] = r["value"]
            source_of[r["point"]] = batch["device"]
    missing = [e for e in exact if (e[0], e[1]) not in values]
    assert not missing, (
        f"{len(missing)} of {len(exact)} emitted readings missing, e.g. {sorted(missing)[:5]}"
    )
    wrong = [
        (e, values[(e[0], e[1])])
        for e in exact
        if values[(e[0], e[1])] != pytest.approx(e[2], rel=1e-9, abs=1e-9)
    ]
    assert not wrong, f"values differ: {wrong[:5]}"
    twice = [
        k
        for k, n in seen.items()
        if n > 1
        and source_of[k[0]] not in dup_sources
        and not (source_of[k[0]] in resent and n == 2)
    ]
    assert not twice, f"published twice: {twice[:5]}"


def _wait_polling(status: Path, since_ms: int, timeout_s: float = 60) -> int:
    """Wall ms once the restarted adapter's ``status.json`` shows every Modbus device online."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            doc = json.loads(status.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            doc = {}
        mb = doc.get("adapters", {}).get("modbus", {})
        if (
            doc.get("time_ms", 0) > since_ms
            and mb.get("online")
            and mb.get("online") == mb.get("devices")
        ):
            break
        time.sleep(0.25)
    return int(time.time() * 1000)


def _run(local_stack: Any, tmp_path: Path, *, kill_adapter: bool) -> None:
    settings = local_stack.settings
    park, doc = _park_copy(tmp_path)
    env = _env(settings, tmp_path / "state")
    adapters = _adapters(park, env, tmp_path, "adapters-1")
    time.sleep(3)  # subscribed (persistent session) before the first publish
    start = datetime.now(UTC).replace(microsecond=0)
    start_ms = int(start.timestamp() * 1000)
    sim_log = open(tmp_path / "sim.log", "wb")  # noqa: SIM115 - closed after the run
    sim = subprocess.Popen(
        [
            *SIMULATE,
            str(park),
            "--duration",
            "60",
            "--speed",
            "1",
            "--start",
            start.isoformat().replace("+00:00", "Z"),
            "--log",
            str(tmp_path / "sim.jsonl"),
            "--truth",
            str(tmp_path / "truth.json"),
        ],
        env=env,
        stdout=sim_log,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(5)
        assert sim.poll() is None, (tmp_path / "sim.log").read_text()[-2000:]
        assert adapters.poll() is None, (tmp_path / "adapters-1.log").read_text()[-2000:]
        time.sleep(10)
        local_stack.kafka.stop()
        time.sleep(10)
        if kill_adapter:
            adapters.send_signal(signal.SIGKILL)
            adapters.wait(10)
            time.sleep(2)
            adapters = _adapters(park, env, tmp_path, "adapters-2")
            _wait_polling(tmp_path / "spool" / "status.json", int(time.time() * 1000) - 1)
        time.sleep(20)
        local_stack.kafka.start()
        assert sim.wait(120) == 0, (tmp_path / "sim.log").read_text()[-2000:]
    finally:
        if local_stack.kafka.status().state != "running":
            local_stack.kafka.start()
        if sim.poll() is None:
            sim.kill()
    end_ms = start_ms + 60_000
    exact, modbus, dups = _expected(tmp_path / "sim.jsonl", doc, end_ms)
    sources = {d["id"] for e in doc["enterprises"] for d in e.get("devices", [])}
    sources |= {s["id"] for e in doc["enterprises"] for s in e.get("stacks", [])}
    needed = {(p, t) for p, t, _v in exact}

    def complete(records: list[dict[str, Any]]) -> bool:
        have = {(r["point"], r["ts"]) for b in records for r in b["readings"]}
        return needed <= have

    try:
        got = kafka_read.read_topic(
            settings.bootstrap, TOPIC_READINGS, key_prefix="", until=complete, timeout_s=180
        )
    finally:
        adapters.send_signal(signal.SIGTERM)
        adapters.wait(60)
    window = [
        b
        for b in got
        if b["_key"] in sources and any(r["ts"] >= start_ms - 5_000 for r in b["readings"])
    ]
    # the comparison covers every protocol (so it can fail): gateways, OPC UA, CEMS, Modbus
    points = {p for p, _t, _v in exact}
    assert any(p.startswith("sunrise.") for p in points)  # MQTT gateway
    assert any(p.startswith("acme.feed.") for p in points)  # OPC UA
    assert any(p.startswith("acme-stk1.") for p in points)  # CEMS HJ 212 / JSON
    assert len(modbus) >= 10  # Modbus, exact: value and device time
    protocol = {d["id"]: d["protocol"] for e in doc["enterprises"] for d in e.get("devices", [])}
    resent = {d for d, p in protocol.items() if p == "modbus"} if kill_adapter else set()
    _check(window, exact, dups, resent=resent)


def test_sixty_seconds_with_a_thirty_second_kafka_outage(local_stack: Any, tmp_path: Path) -> None:
    _run(local_stack, tmp_path, kill_adapter=False)


def test_adapter_killed_during_the_outage_loses_nothing(local_stack: Any, tmp_path: Path) -> None:
    _run(local_stack, tmp_path, kill_adapter=True)
