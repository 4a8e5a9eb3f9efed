"""Benchmark of the vectorised path: conversions (kgce and tCO2e of one quantity) per second."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from accounting.vector import CoefficientTable, PointSpec, build_table

_KINDS = (
    ("natural_gas", "Nm3", "fuel"), ("diesel", "t", "fuel"),
    ("electricity", "kWh", "purchased"), ("electricity", "kWh", "exported"),
    ("crude_oil", "t", "feedstock"), ("steam", "t", "purchased"),
    ("electricity_pv", "kWh", "generated"), ("water", "m3", "purchased"),
)


@dataclass(frozen=True)
class BenchResult:
    """Outcome of one benchmark run."""

    n: int
    points: int
    repeats: int
    best_s: float

    @property
    def per_second(self) -> float:
        return self.n / self.best_s


def bench_table(points: int) -> CoefficientTable:
    """A table of ``points`` metering points cycling through typical carriers and uses."""
    specs = [PointSpec(f"p{i}", *_KINDS[i % len(_KINDS)], year=2023, region="jiangsu")
             for i in range(points)]
    return build_table(specs)


def run(n: int = 10_000_000, points: int = 1000, repeats: int = 5, seed: int = 1) -> BenchResult:
    """Time ``table.apply`` on ``n`` (index, quantity) pairs into preallocated buffers; best of
    ``repeats``. One conversion = the kgce and the tCO2e of one quantity."""
    table = bench_table(points)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, points, size=n).astype(np.intp)
    qty = rng.random(n) * 100.0
    out_k = np.empty(n)
    out_c = np.empty(n)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        table.apply(idx, qty, out_k, out_c)
        best = min(best, time.perf_counter() - t0)
    return BenchResult(n, points, repeats, best)
