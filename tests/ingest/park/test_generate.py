"""Synthetic parks pass the loader and have exactly the requested number of meter points."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.park import load_park
from ingest.park.generate import generate_park_yaml


def test_generated_park_checks(tmp_path: Path) -> None:
    text = generate_park_yaml(enterprises=7, points=333, seed=3)
    json.loads(text)  # JSON form: the loader's fast path
    path = tmp_path / "gen.yaml"
    path.write_text(text, encoding="utf-8")
    park = load_park(path)
    ix = park.index
    assert len(ix.enterprises) == 7
    stack_points = 9 * len(ix.stacks)  # enterprises 0 and 5 have a stack
    assert len(ix.stacks) == 2
    assert len(ix.points) - stack_points == 333
    assert generate_park_yaml(7, 333, seed=3) == text  # deterministic


def test_modbus_slots_roll_over_to_next_port() -> None:
    doc = json.loads(generate_park_yaml(enterprises=60, points=1200))
    slots = {
        (d["modbus"]["port"], d["modbus"]["unit_id"])
        for e in doc["enterprises"]
        for d in e["devices"]
        if d["protocol"] == "modbus"
    }
    assert max(u for _, u in slots) == 247
    assert len({p for p, _ in slots}) >= 2
