"""The simulator's ground truth over the span the pipeline observed, recomputed from the
emitted-values log (``nengtan simulate --log``).

Why not just the truth file: the truth file states each point's consumption between its first
and last *emitted* reading. A poller that starts after the simulator, or that is restarted
during a fault, observes a shorter span; counters telescope, so the exact truth over the
observed span is the sum of the true increments between the first and the last emitted values
the pipeline stored. The same recomputation over the whole run must give the truth file's
figure (``full``); the reconciliation checks that too, so this module cannot silently drift
from the simulator's own definition (docs/simulators.md, "Ground truth").
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HOUR_MS = 3_600_000


@dataclass
class Series:
    """One point's emitted samples, in the device's own timestamps, in emission order."""

    source: str
    protocol: str
    samples: list[tuple[int, float]] = field(default_factory=list)
    skew_ms: int = 0
    """The device's clock minus the simulated clock (its timestamps are what it emitted)."""
    resets_ms: set[int] = field(default_factory=set)
    """Device timestamps of the emissions right after which the counter was reset to 0."""

    def ordered(self) -> list[tuple[int, float]]:
        """Distinct timestamps, ascending (duplicates re-sent and late samples collapse)."""
        seen: dict[int, float] = {}
        for ts, value in self.samples:
            seen.setdefault(ts, value)
        return sorted(seen.items())


def load_emitted(log_path: Path) -> dict[str, Series]:
    """Per point, every emitted reading of the simulator's JSON-lines log."""
    series: dict[str, Series] = {}
    resets: defaultdict[str, set[int]] = defaultdict(set)
    with log_path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("type") == "readings":
                for point, value in rec["values"].items():
                    s = series.get(point)
                    if s is None:
                        skew = int(rec["ts"]) - int(rec["t"])
                        s = series[point] = Series(rec["src"], rec.get("protocol", ""), skew_ms=skew)
                    s.samples.append((int(rec["ts"]), float(value)))
            elif rec.get("type") == "fault" and rec.get("kind") == "counter_reset":
                resets[rec["target"]].add(int(rec["t"]))
    for point, instants in resets.items():
        if point in series:
            series[point].resets_ms = {t + series[point].skew_ms for t in instants}
    return series


def counter_increments(
    samples: list[tuple[int, float]], modulus: float | None, resets_ms: set[int]
) -> list[float]:
    """True increment between each pair of consecutive emitted counter values: the difference,
    the value itself after a reset, the value plus the modulus minus the last after a wrap."""
    out: list[float] = []
    for (t1, v1), (_t2, v2) in itertools.pairwise(samples):
        if v2 >= v1:
            out.append(v2 - v1)
        elif t1 in resets_ms or modulus is None:
            out.append(v2)
        else:
            out.append(v2 + modulus - v1)
    return out


def rate_integral(samples: list[tuple[int, float]]) -> float:
    """Sample-and-hold integral (rate per hour × hours) over consecutive samples."""
    return sum(v * (t2 - t1) / HOUR_MS for (t1, v), (t2, _) in itertools.pairwise(samples))


def same(a: float, b: float) -> bool:
    """The value the pipeline decoded equals the value the simulator encoded."""
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def span_by_time(samples: list[tuple[int, float]], first_ts: int, last_ts: int) -> list[tuple[int, float]]:
    """Samples with first_ts ≤ ts ≤ last_ts (sources that carry the device's own time)."""
    return [s for s in samples if first_ts <= s[0] <= last_ts]


def span_by_value(
    samples: list[tuple[int, float]], first_value: float, last_value: float
) -> list[tuple[int, float]] | None:
    """Samples between the emission the first stored value came from and the one the last
    stored value came from (Modbus: the poll time is the adapter's, not the device's).

    A register shows one emitted value until the next emission, so each polled value is an
    emitted one. The first is the earliest emission with that value; the last is the latest
    emission with that value, taken back to the start of its run of equal values (a flat or
    stuck register shows the value it had when it stopped moving). ``None`` when a stored value
    was never emitted.
    """
    start = next((i for i, (_, v) in enumerate(samples) if same(v, first_value)), None)
    if start is None:
        return None
    end = next((i for i in range(len(samples) - 1, start - 1, -1) if same(samples[i][1], last_value)), None)
    if end is None:
        return None
    while end > start and same(samples[end - 1][1], last_value):
        end -= 1
    return samples[start : end + 1]


def unobservable_before_resets(
    samples: list[tuple[int, float]], stored_values: list[float], resets_ms: set[int]
) -> float:
    """Consumption no poller could see: between the last value it stored before a counter
    reset and the value the register held when it was reset. The register restarts from 0, so
    that part is on no wire once the poll has been missed (a poller that saw the value at the
    reset instant loses nothing). Zero for sources that deliver every emitted value."""
    idx: list[int] = []
    at = 0
    for value in stored_values:
        found = next((i for i in range(at, len(samples)) if same(samples[i][1], value)), None)
        if found is None:
            continue
        idx.append(found)
        at = found
    lost = 0.0
    for r, (ts, value) in enumerate(samples):
        if ts not in resets_ms:
            continue
        before = [k for k in idx if k <= r]
        if before and idx[-1] > r:
            lost += value - samples[before[-1]][1]
    return lost


def consumption(
    kind: str, samples: list[tuple[int, float]], modulus: float | None, resets_ms: set[int]
) -> float:
    """Consumption over the given consecutive samples by the simulator's definitions."""
    if kind == "counter":
        return sum(counter_increments(samples, modulus, resets_ms))
    return rate_integral(samples)
