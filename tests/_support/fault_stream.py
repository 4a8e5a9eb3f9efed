"""Random reading streams with every fault kind of the shared fault semantics (rollover,
reset, implausible jump, short and long gaps, duplicates, out-of-order, bad quality, NaN,
readings on minute bounds, negative and signed-zero rates), for the stream property tests."""

from __future__ import annotations

import random
from typing import Any

from streams.points import PointInfo, PointTable
from streams.windows import MINUTE_MS

T0 = 1_767_571_200_000
DAY = 86_400_000


def make_table(rng: random.Random, n: int) -> PointTable:
    points = {}
    for i in range(n):
        kind = rng.choice(["counter", "counter", "rate"])
        modulus = rng.choice([None, 100_000.0, 65_536.0, 1_000.0])
        max_rate = rng.choice([None, 1_000.0, 50_000.0])
        pid = f"p{i}"
        points[pid] = PointInfo(pid, "e", kind, "electricity", "kWh", "kWh", "purchased",
                                modulus=modulus if kind == "counter" else None,
                                max_rate_per_h=max_rate if kind == "counter" else None)  # fmt: skip
    return PointTable("park", points)


def make_stream(
    rng: random.Random, table: PointTable, n: int, longest: int = 300 * DAY
) -> list[dict[str, Any]]:
    """Readings (dicts as in a batch) in arrival order, with every fault kind; the longest
    gap ``longest``."""
    ids = sorted(table.points)
    ts = {p: T0 + rng.randrange(0, 90_000) for p in ids}
    reg = {p: rng.uniform(0, 900.0) for p in ids}
    out: list[dict[str, Any]] = []
    for _ in range(n):
        p = rng.choice(ids)
        info = table.points[p]
        fault = rng.random()
        if fault < 0.05 and out:  # duplicate of an earlier reading (any point)
            out.append(dict(rng.choice(out[-20:])))
            continue
        if fault < 0.10:  # out of order / stale: older than the latest
            out.append({"point": p, "ts": ts[p] - rng.randrange(0, 120_000), "value": reg[p]})
            continue
        gap = rng.choice([1_000, 5_000, 10_000, 30_000, 60_000, 61_000, 150_000])
        if fault < 0.13:
            gap = rng.choice([2 * 3_600_000, 3_600_000, 3_600_001, longest])
        ts[p] += gap
        if fault < 0.16:
            ts[p] -= ts[p] % MINUTE_MS  # on a minute bound
        if info.kind == "rate":
            reg[p] = rng.choice([rng.uniform(-50, 500.0), 0.0, -0.0, rng.uniform(0, 1e4)])
        elif fault < 0.20 and info.modulus:  # rollover
            reg[p] = (reg[p] + rng.uniform(0, 50.0)) % info.modulus
        elif fault < 0.24:  # reset
            reg[p] = rng.uniform(0, 5.0)
        elif fault < 0.27:  # implausible jump
            reg[p] += rng.uniform(1e4, 1e6)
        else:
            reg[p] += rng.choice([0.0, rng.uniform(0, 20.0), 0.1, 1e-9])
        q = "good"
        value: float = reg[p]
        if fault > 0.97:
            q = "bad"
        elif fault > 0.95:
            value = float("nan")
        out.append({"point": p, "ts": ts[p], "value": value, "q": q})
    return out
