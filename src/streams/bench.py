"""``nengtan streams-bench``: readings per second through the device processor (the pure core
of a worker: differencing, minute windows, conversion with the accounting coefficients), on
one core, without Kafka. Prints figures; asserts nothing."""

from __future__ import annotations

import time
from typing import Any

from streams.points import PointInfo, PointTable
from streams.processor import process_batch
from streams.rules import load_rules

T0 = 1_767_571_200_000


def run(points_per_device: int = 50, devices: int = 200, steps: int = 60) -> dict[str, float]:
    """Feed ``devices`` × ``steps`` batches of ``points_per_device`` counters (10 s apart)."""
    points = {
        f"d{d}.p{p}": PointInfo(
            f"d{d}.p{p}",
            f"e{d % 10}",
            "counter",
            "electricity",
            "kWh",
            "kWh",
            "purchased",
            inventory=True,
        )
        for d in range(devices)
        for p in range(points_per_device)
    }
    table = PointTable("bench", points)
    table.coefficients(2026)
    rules = load_rules()
    states: dict[str, dict[str, Any]] = {f"d{d}": {} for d in range(devices)}
    batches = [
        (
            f"d{d}",
            {
                "device": f"d{d}",
                "seq": i,
                "sent_ms": 0,
                "readings": [
                    {
                        "point": f"d{d}.p{p}",
                        "ts": T0 + i * 10_000,
                        "value": 1000.0 + i * (p + 1) * 0.5,
                    }
                    for p in range(points_per_device)
                ],
            },
        )
        for i in range(steps)
        for d in range(devices)
    ]
    records = 0
    start = time.perf_counter()
    for device, batch in batches:
        out = process_batch(table, rules, states[device], batch)
        records += len(out.consumption) + len(out.emissions)
    elapsed = time.perf_counter() - start
    readings = len(batches) * points_per_device
    return {
        "readings": float(readings),
        "seconds": elapsed,
        "readings_per_s": readings / elapsed,
        "batches_per_s": len(batches) / elapsed,
        "records_out": float(records),
    }
