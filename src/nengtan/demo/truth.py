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


def span_by_time(samples: list[tuple[int, float]], first_ts: int, last_ts: int) -> list[tuple[int, float]]:
    """Samples with first_ts ≤ ts ≤ last_ts (sources that carry the device's own time)."""
    return [s for s in samples if first_ts <= s[0] <= last_ts]


def consumption(
    kind: str, samples: list[tuple[int, float]], modulus: float | None, resets_ms: set[int]
) -> float:
    """Consumption over the given consecutive samples by the simulator's definitions."""
    if kind == "counter":
        return sum(counter_increments(samples, modulus, resets_ms))
    return rate_integral(samples)
