"""The counter/rate step of ``streams.counters`` vectorised over a whole group of readings.

Per-point state lives in arrays indexed by point (``PointArrays``); a group of readings (many
batches of many devices) is one set of arrays ``(point, ts, value)`` in processing order. The
step is the scalar one's, reading for reading and bit for bit (``tests/streams/
test_columnar.py`` checks it against ``counter_step``/``rate_step``/``book_step`` on random
streams with every fault kind):

1. readings sorted by point, stable in processing order;
2. stale (duplicate, out of order): not newer than the running maximum of the point's earlier
   readings and its state (a segmented running maximum);
3. the accepted readings' predecessors (the previous accepted reading, or the state) give the
   counter step (rollover, reset, implausible) or the rate step, all masks;
4. each step split over the minutes it spans (``windows.split_linear``'s arithmetic, expanded
   with ``np.repeat``), or booked whole when it spans more than the long-gap bound;
5. the parts of one point and minute added in the scalar order (a left-to-right sum per run,
   one vector addition per depth), so floating-point results are identical.

Every run of a point but its last is a closed minute; the last is the open minute, as in the
state. Nothing here knows Faust or Kafka.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.counters import MS_PER_HOUR, PointState
from streams.points import PointTable

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

KIND_COUNTER = 0
KIND_RATE = 1
ANOMALY_KINDS = ("reset", "rollover", "implausible_jump", "long_gap")
"""Anomaly kind codes (index into this tuple)."""
_RESET, _ROLLOVER, _IMPLAUSIBLE, _LONG = range(4)


@dataclass(slots=True)
class PointIndex:
    """The counter and rate points of a table as arrays: index, kind, modulus, bound."""

    ids: list[str]
    index: dict[str, int]
    kind: npt.NDArray[np.int8]
    modulus: F64
    """NaN: the register does not wrap."""
    max_rate_per_h: F64
    """NaN: no plausible bound."""

    @classmethod
    def of(cls, table: PointTable) -> PointIndex:
        ids = sorted(p for p, i in table.points.items() if i.kind in ("counter", "rate"))
        info = [table.points[p] for p in ids]
        nan = float("nan")
        return cls(
            ids,
            {p: i for i, p in enumerate(ids)},
            np.array([KIND_RATE if i.kind == "rate" else KIND_COUNTER for i in info], np.int8),
            np.array([nan if i.modulus is None else i.modulus for i in info], np.float64),
            np.array([nan if i.max_rate_per_h is None else i.max_rate_per_h for i in info]),
        )


@dataclass(slots=True)
class PointArrays:
    """``PointState`` of every point of a ``PointIndex``, as arrays (``has_*``: not None)."""

    has_last: B
    last_ts: I64
    last_value: F64
    has_open: B
    open_start: I64
    open_amount: F64

    @classmethod
    def empty(cls, n: int) -> PointArrays:
        return cls(np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n), np.zeros(n, bool),
                   np.zeros(n, np.int64), np.zeros(n))  # fmt: skip

    def get(self, i: int) -> PointState:
        return PointState(
            int(self.last_ts[i]) if self.has_last[i] else None,
            float(self.last_value[i]),
            int(self.open_start[i]) if self.has_open[i] else None,
            float(self.open_amount[i]),
        )

    def put(self, i: int, ps: PointState) -> None:
        self.has_last[i] = ps.last_ts_ms is not None
        self.last_ts[i] = ps.last_ts_ms or 0
        self.last_value[i] = ps.last_value
        self.has_open[i] = ps.open_start_ms is not None
        self.open_start[i] = ps.open_start_ms or 0
        self.open_amount[i] = ps.open_amount


@dataclass(slots=True)
class GroupSteps:
    """What a group of readings produced (arrays; ``*_point`` are ``PointIndex`` indices)."""

    closed_point: I64
    closed_start: I64
    closed_end: I64
    closed_amount: F64
    """Closed minutes, and long-gap intervals (``end - start`` above a minute)."""
    open_point: I64
    open_start: I64
    open_amount: F64
    """The open minute of every point the group touched (stale-only points included)."""
    anomaly_reading: I64
    """Index (into the group's input arrays) of the reading that raised each anomaly."""
    anomaly_kind: npt.NDArray[np.int8]
    anomaly_value: F64
    stale: B
    """Per input reading: not newer than the point's latest, not counted."""


def _segment_starts(keys: I64) -> B:
    starts = np.ones(len(keys), bool)
    starts[1:] = keys[1:] != keys[:-1]
    return starts


def _exclusive_running_max(values: I64, seg_start: B, initial: I64) -> I64:
    """Per element: the maximum of ``initial`` of its segment and the earlier elements of its
    segment (segments are runs of ``seg_start``)."""
    seg = np.cumsum(seg_start) - 1
    if not len(values):
        return values.copy()
    out = np.empty_like(values)
    lo = int(values.min())
    rel = values - lo + 1
    offset = int(rel.max()) + 1
    if offset * (int(seg[-1]) + 1) < 2**62:
        shifted = np.maximum.accumulate(rel + seg * offset) - seg * offset
        out[1:] = shifted[:-1]
        out[seg_start] = 0  # below every value: only ``initial`` counts
        result: I64 = np.maximum(out + (lo - 1), initial[seg])
        return result
    first = np.flatnonzero(seg_start)  # huge ranges: one running maximum per segment
    for a, b in zip(first, [*first[1:], len(values)], strict=True):
        out[a] = initial[seg[a]]
        if b - a > 1:
            out[a + 1 : b] = np.maximum(np.maximum.accumulate(values[a : b - 1]), initial[seg[a]])
    return out


def step_group(
    ix: PointIndex,
    state: PointArrays,
    point: I64,
    ts: I64,
    value: F64,
    *,
    size_ms: int,
    long_gap_ms: int | None,
) -> GroupSteps:
    """Apply readings (good, finite, of counter or rate points, in processing order) to the
    state; returns the closed minutes, open minutes and anomalies (see the module doc)."""
    n = len(point)
    order = np.argsort(point, kind="stable")
    p, t, v = point[order], ts[order], value[order]
    seg_start = _segment_starts(p)
    seg_first = np.flatnonzero(seg_start)
    touched = p[seg_first]
    never = np.iinfo(np.int64).min // 4
    init = np.where(state.has_last[touched], state.last_ts[touched], never)
    prev_max = _exclusive_running_max(t, seg_start, init)
    accepted = t > prev_max
    stale_sorted = ~accepted

    # predecessors of accepted readings: the previous accepted one of the point, or the state
    ai = np.flatnonzero(accepted)
    ap, at, av = p[ai], t[ai], v[ai]
    a_first = _segment_starts(ap)
    prev_idx = np.arange(len(ai)) - 1
    has_prev = ~a_first
    from_state = a_first & state.has_last[ap]
    t0 = np.where(has_prev, at[np.maximum(prev_idx, 0)], state.last_ts[ap])
    v1 = np.where(has_prev, av[np.maximum(prev_idx, 0)], state.last_value[ap])
    first = ~(has_prev | from_state)

    # the step: counters differenced (rollover/reset/implausible), rates held
    kind = ix.kind[ap]
    dt = at - t0
    hours = dt / MS_PER_HOUR
    max_rate = ix.max_rate_per_h[ap]
    modulus = ix.modulus[ap]
    has_bound = ~np.isnan(max_rate)
    bound = max_rate * hours
    up = av >= v1
    wrapped = (av + modulus) - v1
    limit = np.where(has_bound, bound, modulus / 2)
    with np.errstate(invalid="ignore"):
        rollover = ~up & ~np.isnan(modulus) & (wrapped <= limit)
    counter_amount = np.where(up, av - v1, np.where(rollover, wrapped, av))
    rate_amount = v1 * dt.astype(np.float64) / MS_PER_HOUR
    is_rate = kind == KIND_RATE
    amount = np.where(is_rate, rate_amount, counter_amount)
    amount = np.where(first, 0.0, amount)
    counted = ~first
    with np.errstate(invalid="ignore"):
        implausible = counted & ~is_rate & has_bound & (amount > bound)
    reset = counted & ~is_rate & ~up & ~rollover
    rolled = counted & ~is_rate & rollover
    long = counted & (dt > long_gap_ms) if long_gap_ms is not None else np.zeros(len(ai), bool)

    # minute parts of ordinary steps: split_linear's arithmetic, all parts at once
    split = counted & ~long
    w0 = at - at % size_ms  # window of t1 (FIRST and long steps open it empty)
    s_t0, s_t1, s_a = t0[split], at[split], amount[split]
    s_w0 = s_t0 - s_t0 % size_ms
    last_w = (s_t1 - 1) - (s_t1 - 1) % size_ms
    n_parts = (last_w - s_w0) // size_ms + 1
    step_of = np.repeat(np.arange(len(s_t0)), n_parts)
    k = np.arange(len(step_of)) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
    part_start = s_w0[step_of] + k * size_ms
    inner_end = part_start + size_ms
    span = (s_t1 - s_t0)[step_of]
    cumulative = s_a[step_of] * ((inner_end - s_t0[step_of]) / span)
    is_last = k == n_parts[step_of] - 1
    before = np.zeros(len(step_of))
    before[1:] = cumulative[:-1]
    before[k == 0] = 0.0
    part = np.where(is_last, s_a[step_of] - before, cumulative - before)

    # the elements summed per (point, minute) run, in processing order: the state's open minute
    # first, then per accepted reading its parts, or an empty opening window (first reading,
    # long gap, step ending on a minute bound), which starts a run of its own
    split_pos = np.flatnonzero(split)
    opens = first | long | (split & (at % size_ms == 0))
    open_pos = np.flatnonzero(opens)
    carry = seg_first[state.has_open[touched] & state.has_last[touched]]  # its first reading
    el_point = np.concatenate([p[carry], ap[split_pos][step_of], ap[open_pos]])
    el_minute = np.concatenate([state.open_start[p[carry]], part_start, w0[open_pos]])
    el_value = np.concatenate([state.open_amount[p[carry]], part, np.zeros(len(open_pos))])
    # ordering key: position in the sorted readings (carry before the point's first reading),
    # then part number; an opening window comes after the parts of its step
    el_pos = np.concatenate([carry * 2, ai[split_pos][step_of] * 2 + 1, ai[open_pos] * 2 + 1])
    el_sub = np.concatenate([np.zeros(len(carry), np.int64), k,
                             np.full(len(open_pos), np.iinfo(np.int32).max, np.int64)])  # fmt: skip
    el_fresh = np.concatenate([np.zeros(len(carry) + len(k), bool), np.ones(len(open_pos), bool)])
    eo = np.lexsort((el_sub, el_pos))
    el_point, el_minute, el_value, el_fresh = el_point[eo], el_minute[eo], el_value[eo], el_fresh[eo]
    run_start = np.ones(len(eo), bool)
    run_start[1:] = (
        (el_point[1:] != el_point[:-1]) | (el_minute[1:] != el_minute[:-1]) | el_fresh[1:]
    )
    run_id = np.cumsum(run_start) - 1
    first_of_run = np.flatnonzero(run_start)
    depth = np.arange(len(eo)) - first_of_run[run_id]
    total = el_value[first_of_run].copy()
    by_depth = np.argsort(depth, kind="stable")
    counts = np.bincount(depth) if len(depth) else np.zeros(1, np.int64)
    at_depth = np.cumsum(counts)
    for d in range(1, len(counts)):  # left-to-right sums, one vector addition per depth
        sel = by_depth[at_depth[d - 1] : at_depth[d]]
        total[run_id[sel]] = total[run_id[sel]] + el_value[sel]
    run_point = el_point[first_of_run]
    run_minute = el_minute[first_of_run]
    last_run = np.ones(len(first_of_run), bool)
    last_run[:-1] = run_point[1:] != run_point[:-1]

    # long-gap intervals, placed among the closed minutes
    lp = np.flatnonzero(long)
    closed_point = np.concatenate([run_point[~last_run], ap[lp]])
    closed_start = np.concatenate([run_minute[~last_run], t0[lp]])
    closed_end = np.concatenate([run_minute[~last_run] + size_ms, at[lp]])
    closed_amount = np.concatenate([total[~last_run], amount[lp]])

    # the new state: latest accepted reading; open minute = the point's last run
    last_acc = np.flatnonzero(np.append(ap[1:] != ap[:-1], True)) if len(ap) else ai[:0]
    lpnt = ap[last_acc]
    state.has_last[lpnt] = True
    state.last_ts[lpnt] = at[last_acc]
    state.last_value[lpnt] = av[last_acc]
    op, om, oa = run_point[last_run], run_minute[last_run], total[last_run]
    state.has_open[op] = True
    state.open_start[op] = om
    state.open_amount[op] = oa

    # anomalies in processing order of their readings: reset/rollover, implausible, long gap
    kinds = np.stack([np.where(reset, _RESET, np.where(rolled, _ROLLOVER, -1)),
                      np.where(implausible, _IMPLAUSIBLE, -1), np.where(long, _LONG, -1)], 1)  # fmt: skip
    values = np.stack([av, amount, amount], 1)
    row, col = np.nonzero(kinds >= 0)
    stale = np.zeros(n, bool)
    stale[order] = stale_sorted
    return GroupSteps(
        closed_point.astype(np.int64), closed_start, closed_end, closed_amount,
        op.astype(np.int64), om, oa,
        order[ai[row]], kinds[row, col].astype(np.int8), values[row, col], stale,
    )  # fmt: skip
