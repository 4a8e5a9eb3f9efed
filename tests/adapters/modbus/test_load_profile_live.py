"""The adapter reading the simulated meters' load-profile rings over real Modbus TCP, stepped on
the simulated clock: every sample the simulator logged is handed over once, with its value and
device time; an adapter away longer than the ring reports the lost range; a new adapter on the
same state dir continues where the last one stopped."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient

from adapters.modbus.adapter import ModbusAdapter, device_configs
from adapters.modbus.config import ModbusConfig
from ingest.intake import Intake
from ingest.park.loader import parse_park
from ingest.park.models import Park
from ingest.publisher import Publisher
from ingest.validate import Validator
from simulators.runner import RunOptions, Simulation

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
START = 1_767_571_200_000  # 2026-01-05T00:00:00Z, the example park's start
_spec = importlib.util.spec_from_file_location(
    "simulators_fixtures", ROOT / "tests" / "simulators" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

Sent = Callable[[], tuple[list[Any], list[Any]]]
Reading = tuple[str, int, float]


def _park() -> Park:
    return parse_park(_fixtures.example_doc(("modbus",)))


def _adapter(park: Park, publisher: Publisher, state: Path | None) -> ModbusAdapter:
    config = ModbusConfig(devices=device_configs(park), state_dir=state)
    adapter = ModbusAdapter(config, Intake(Validator.for_park(park), publisher))
    adapter.validate()
    return adapter


def _logged(log: Path) -> list[Reading]:
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["type"] == "readings":
            out += [(p, rec["ts"], v) for p, v in rec["values"].items()]
    return out


def _published(batches: list[Any]) -> list[Reading]:
    return [(r["point"], r["ts"], r["value"]) for b in batches for r in b["readings"]]


class Stepper:
    """A simulation advanced by hand and one adapter polling every device's ring on demand."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.clients: dict[int, AsyncModbusTcpClient] = {}

    async def poll(self, adapter: ModbusAdapter) -> None:
        for dev in adapter.config.devices:
            client = self.clients.get(dev.port)
            if client is None or not client.connected:
                client = self.clients[dev.port] = AsyncModbusTcpClient("127.0.0.1", port=dev.port)
                assert await client.connect()
            await adapter.poll_ring(client, dev)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def test_every_logged_sample_once_with_its_device_time(
    tmp_path: Path, publisher: Publisher, sent: Sent
) -> None:
    park = _park()
    sim = Simulation(park, RunOptions(start_ms=START, seed=42, log_path=tmp_path / "sim.jsonl"))
    adapter = _adapter(park, publisher, tmp_path / "state")

    async def run() -> None:
        await sim.setup()
        step = Stepper(sim)
        try:
            # polls every 35 simulated s (several samples of the 10 s meters per read, none of
            # the 30 s one sometimes) through the reset at 1200 s, the stuck window 600-1200 s
            # and acme-m4's offline window 2400-2700 s
            for t in range(START, START + 3_000_001, 35_000):
                await sim.advance(t)
                await step.poll(adapter)
        finally:
            step.close()
            await sim.teardown()

    asyncio.run(run())
    batches, dlq = sent()
    assert dlq == []
    logged = _logged(tmp_path / "sim.jsonl")
    got = _published(batches)
    assert len(logged) > 2_000
    # every logged sample exactly (value and device time), and nothing twice
    assert Counter(got) == Counter(logged)
    # offline acme-m4 failed (exception 0x0B) and lost nothing; no gap anywhere
    assert adapter.states["acme-m4"].failures >= 1
    assert adapter.status()["lost_samples"] == 0
    assert adapter.status()["samples"] == sum(
        1 for line in (tmp_path / "sim.jsonl").read_text().splitlines() if '"readings"' in line
    )
    # the first value of a counter is there (no zero read before the meter was set up)
    first = min((ts, v) for p, ts, v in got if p == "acme.synth.kwh")
    assert first == (START, 1_250_000.0)


def test_away_longer_than_the_ring_reports_the_gap_and_reads_what_it_holds(
    tmp_path: Path, publisher: Publisher, sent: Sent, caplog: pytest.LogCaptureFixture
) -> None:
    park = _park()
    sim = Simulation(park, RunOptions(start_ms=START, seed=42, log_path=tmp_path / "sim.jsonl"))
    adapter = _adapter(park, publisher, tmp_path / "state")

    async def run() -> None:
        await sim.setup()
        step = Stepper(sim)
        try:
            await sim.advance(START + 100_000)  # ticks 0..100 s: sequences 1..11 (10 s meters)
            await step.poll(adapter)
            await sim.advance(START + 1_600_000)  # 150 more samples: 22 beyond the ring's 128
            await step.poll(adapter)
        finally:
            step.close()
            await sim.teardown()

    with caplog.at_level(logging.WARNING, logger="adapters.modbus.adapter"):
        asyncio.run(run())
    batches, _ = sent()
    got = _published(batches)
    m1 = adapter.states["acme-m1"]
    assert m1.gaps == [(12, 33)] and m1.lost_samples == 22  # 161 - 128 = 33 the newest lost
    # the 30 s water meter wrote 4 + 50 samples: fewer than 128, nothing lost
    assert adapter.states["acme-m5"].lost_samples == 0
    assert "acme-m1: load-profile samples 12..33 (22) lost" in caplog.text
    ts_m1 = sorted({ts for p, ts, _v in got if p == "acme.grid.kwh"})
    # sequences 1..11 then 34..161: ts 0..100 s, then 330..1600 s
    expected = [START + 10_000 * k for k in range(11)] + [
        START + 10_000 * k for k in range(33, 161)
    ]
    assert ts_m1 == expected
    logged = set(_logged(tmp_path / "sim.jsonl"))
    assert set(got) <= logged


def test_a_new_adapter_on_the_same_state_dir_continues(
    tmp_path: Path, publisher: Publisher, sent: Sent
) -> None:
    park = _park()
    sim = Simulation(park, RunOptions(start_ms=START, seed=42, log_path=tmp_path / "sim.jsonl"))
    state = tmp_path / "state"

    async def run() -> None:
        await sim.setup()
        step = Stepper(sim)
        try:
            first = _adapter(park, publisher, state)
            for t in range(START, START + 200_001, 50_000):
                await sim.advance(t)
                await step.poll(first)
            await sim.advance(START + 500_000)  # nobody polls for 300 s
            second = _adapter(park, publisher, state)  # a restart: only the state dir is kept
            await step.poll(second)
        finally:
            step.close()
            await sim.teardown()

    asyncio.run(run())
    saved = json.loads((state / "modbus-sequences.json").read_text())
    assert saved["acme-m1"] == 51 and saved["acme-m5"] == 17  # 0..500 s every 10 s / 30 s
    batches, _ = sent()
    assert Counter(_published(batches)) == Counter(_logged(tmp_path / "sim.jsonl"))
