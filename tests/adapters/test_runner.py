"""The runner: which adapters a park needs, the status line and status.json (no network)."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.runner import AdapterRunner
from ingest.park.loader import load_park
from nengtan.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "park-small.yaml"


def test_example_park_needs_all_three_protocols(tmp_path: Path) -> None:
    park = load_park(EXAMPLE)
    runner = AdapterRunner(park, load_settings(state_dir=tmp_path), spool_dir=tmp_path / "sp")
    assert sorted(runner.adapters) == ["modbus", "mqtt", "opcua"]
    modbus = runner.adapters["modbus"].config
    # 7 Modbus devices; acme-m1 polls every 10 s / 4 and reads its three points in two requests
    assert len(modbus.devices) == 7
    m1 = next(d for d in modbus.devices if d.device == "acme-m1")
    assert m1.interval_s == 2.5
    plan = runner.adapters["modbus"].plans["acme-m1"]  # type: ignore[attr-defined]
    assert [(r.address, r.count) for r in plan] == [(0, 8)]  # 0, 4, 6 merged over known registers
    rates = runner.sample()
    assert "0 readings" in rates.line() and "modbus 0/7 online" in rates.line()
    runner.write_status(rates)
    status = json.loads((tmp_path / "sp" / "status.json").read_text())
    assert status["park"] == "demo-park" and status["spool_records"] == 0
    runner.stop(drain_timeout_s=0)
    runner.stop()
