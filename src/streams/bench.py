"""``nengtan streams-bench``: readings per second through the device processor (the pure core
of a worker: decoding, differencing, minute windows, conversion with the accounting
coefficients), on one core, without Kafka: the per-batch path (``process_batch``) and the
columnar one (``process_group`` over groups of ``TAKE_MAX`` batches) on the same input in the
same run, with CPU µs per reading. Prints figures; asserts nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson

from streams.columnar import PointIndex
from streams.group import process_group
from streams.points import PointInfo, PointTable
from streams.processor import process_batch
from streams.rules import load_rules

GROUP = 500
"""Batches per group in the columnar path (the worker's ``TAKE_MAX``)."""

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
    raw = [(device, json.dumps(batch).encode()) for device, batch in batches]
    readings = len(batches) * points_per_device
    records = 0
    start, cpu = time.perf_counter(), time.process_time()
    for device, body in raw:  # the per-batch path, as the agent runs it: decode, process
        out = process_batch(table, rules, states[device], json.loads(body))
        records += len(out.consumption) + len(out.emissions)
    elapsed, cpu_batch = time.perf_counter() - start, time.process_time() - cpu
    ix = PointIndex.of(table)
    gstates: dict[str, dict[str, Any]] = {f"d{d}": {} for d in range(devices)}
    grecords = 0
    gstart, gcpu = time.perf_counter(), time.process_time()
    for i in range(0, len(raw), GROUP):
        group = [(device, orjson.loads(body)) for device, body in raw[i : i + GROUP]]
        gout = process_group(table, ix, rules, gstates, group)
        grecords += len(gout.consumption) + len(gout.emissions)
    gelapsed, cpu_group = time.perf_counter() - gstart, time.process_time() - gcpu
    return {
        "readings": float(readings),
        "seconds": elapsed,
        "readings_per_s": readings / elapsed,
        "batches_per_s": len(batches) / elapsed,
        "records_out": float(records),
        "cpu_us_per_reading": cpu_batch / readings * 1e6,
        "group_seconds": gelapsed,
        "group_readings_per_s": readings / gelapsed,
        "group_records_out": float(grecords),
        "group_cpu_us_per_reading": cpu_group / readings * 1e6,
    }
