"""Property test: the vectorised step (``streams.columnar.step_group``) equals the scalar
reference (``counter_step``/``rate_step`` + ``book_step``, as ``processor.process_batch``
applies them) bit for bit, on random streams with every fault kind: rollovers, resets,
implausible jumps, short and long gaps (300 days too), duplicates, out-of-order and stale
readings, bad quality, NaN, readings on minute bounds, negative and signed-zero rates; the
stream cut into groups at random, the state carried between them."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import numpy as np
import pytest
from fault_stream import DAY, T0, make_stream, make_table

from streams.columnar import ANOMALY_KINDS, PointArrays, PointIndex, step_group
from streams.counters import PointState, StepKind, book_step, counter_step, is_long, rate_step
from streams.points import PointInfo, PointTable
from streams.windows import MINUTE_MS


def good(r: dict[str, Any]) -> bool:
    return bool(r.get("q", "good") == "good" and math.isfinite(float(r["value"])))


def reference(
    table: PointTable, states: dict[str, PointState], readings: list[dict[str, Any]], gap: int | None
) -> dict[str, Any]:
    """The scalar path, reading by reading (the processor's loop without conversion)."""
    closed, anomalies, stale = [], [], []
    touched = set()
    for i, r in enumerate(readings):
        if not good(r):
            continue
        pid, ts, value = r["point"], int(r["ts"]), float(r["value"])
        info = table.points[pid]
        ps = states.setdefault(pid, PointState())
        if info.kind == "counter":
            step = counter_step(ps, ts, value, modulus=info.modulus,
                                max_rate_per_h=info.max_rate_per_h)  # fmt: skip
        else:
            step = rate_step(ps, ts, value)
        if step.kind is StepKind.STALE:
            stale.append(i)
        elif step.kind in (StepKind.RESET, StepKind.ROLLOVER):
            anomalies.append((i, step.kind.value, value))
        if step.implausible:
            anomalies.append((i, "implausible_jump", step.amount))
        if is_long(step, gap):
            anomalies.append((i, "long_gap", step.amount))
        closed.extend((pid, s, e, a) for s, e, a in book_step(ps, step, MINUTE_MS, gap))
        touched.add(pid)
    opened = [(p, states[p].open_start_ms, states[p].open_amount) for p in sorted(touched)
              if states[p].open_start_ms is not None]  # fmt: skip
    return {"closed": closed, "anomalies": anomalies, "stale": stale, "open": opened}


def vectorised(
    ix: PointIndex, state: PointArrays, readings: list[dict[str, Any]], gap: int | None
) -> dict[str, Any]:
    keep = [i for i, r in enumerate(readings) if good(r)]
    point = np.array([ix.index[readings[i]["point"]] for i in keep], dtype=np.int64)
    ts = np.array([int(readings[i]["ts"]) for i in keep], dtype=np.int64)
    value = np.array([float(readings[i]["value"]) for i in keep], dtype=np.float64)
    out = step_group(ix, state, point, ts, value, size_ms=MINUTE_MS, long_gap_ms=gap)
    ids = ix.ids
    closed = [(ids[p], int(s), int(e), float(a)) for p, s, e, a in
              zip(out.closed_point, out.closed_start, out.closed_end, out.closed_amount,
                  strict=True)]  # fmt: skip
    anomalies = sorted(
        ((keep[int(r)], ANOMALY_KINDS[k], float(v)) for r, k, v in
         zip(out.anomaly_reading, out.anomaly_kind, out.anomaly_value, strict=True)),
        key=lambda a: (a[0], ["reset", "rollover", "implausible_jump", "long_gap"].index(a[1])),
    )  # fmt: skip
    opened = sorted((ids[p], int(s), float(a)) for p, s, a in
                    zip(out.open_point, out.open_start, out.open_amount, strict=True))  # fmt: skip
    stale = [keep[i] for i in np.flatnonzero(out.stale)]
    return {"closed": closed, "anomalies": anomalies, "stale": stale, "open": opened}


def bits(x: Any) -> Any:
    """Floats by their bits (so 0.0 and -0.0, or two NaNs, are told apart)."""
    if isinstance(x, float):
        return x.hex() if not math.isnan(x) else "nan"
    if isinstance(x, tuple | list):
        return type(x)(bits(v) for v in x)
    return x


@pytest.mark.parametrize("seed", range(40))
def test_vectorised_step_equals_the_scalar_step_bit_for_bit(seed: int) -> None:
    rng = random.Random(seed)
    table = make_table(rng, rng.randrange(1, 12))
    gap = rng.choice([3_600_000, 3_600_000, 60_000, 30 * 60_000, None])
    # without a bound, a 300-day step would be 432,000 minutes: the longest gap is 3 h then
    readings = make_stream(rng, table, rng.randrange(1, 1_500), 300 * DAY if gap else 3 * 3_600_000)
    ix = PointIndex.of(table)
    arrays = PointArrays.empty(len(ix.ids))
    states: dict[str, PointState] = {}
    cuts = sorted({0, len(readings), *(rng.randrange(0, len(readings) + 1) for _ in range(5))})
    for a, b in itertools.pairwise(cuts):
        group = readings[a:b]
        want = reference(table, states, group, gap)
        got = vectorised(ix, arrays, group, gap)
        assert bits(sorted(got["closed"])) == bits(sorted(want["closed"]))
        assert bits(got["anomalies"]) == bits(want["anomalies"])
        assert got["stale"] == want["stale"]
        assert bits(got["open"]) == bits(want["open"])
        for pid, ps in states.items():
            assert bits(arrays.get(ix.index[pid]).to_list()) == bits(ps.to_list()), pid


def test_one_reading_after_300_days_gives_one_interval() -> None:
    table = PointTable("park", {"c": PointInfo("c", "e", "counter", "electricity", "kWh", "kWh")})
    ix = PointIndex.of(table)
    state = PointArrays.empty(1)
    ts = np.array([T0, T0 + 30_000, T0 + 30_000 + 300 * DAY], dtype=np.int64)
    out = step_group(ix, state, np.zeros(3, np.int64), ts, np.array([1.0, 2.0, 5.0]),
                     size_ms=MINUTE_MS, long_gap_ms=3_600_000)  # fmt: skip
    assert sorted(zip(out.closed_start.tolist(), out.closed_end.tolist(), strict=True)) == [
        (T0, T0 + MINUTE_MS),
        (T0 + 30_000, T0 + 30_000 + 300 * DAY),
    ]
    assert [ANOMALY_KINDS[k] for k in out.anomaly_kind] == ["long_gap"]
