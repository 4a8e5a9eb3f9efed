"""A group of reading batches (of many devices) in, records out: the columnar core of the
devices agent, equal in its stored results to ``processor.process_batch`` applied batch by
batch (``tests/streams/test_group.py``).

The counter and rate readings of the whole group become arrays and go through one vectorised
step (``streams.columnar``); only what is rare stays per batch: CEMS species readings, unknown
points and the counter-anomaly alerts (evaluated per batch, in the batch's order, as the scalar
path does, so alert ids and states are the same). Open minutes go out once per group (the
latest amount) instead of once per batch; closed minutes once, as before. Device states keep
their format (``{"points": {point: PointState list}, ...}``): only the touched points' entries
are read and replaced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from streams.columnar import ANOMALY_KINDS, F64, I64, PointArrays, PointIndex, step_group
from streams.device_alerts import Anomaly, anomaly_alerts
from streams.points import PointTable
from streams.processor import DeviceState, Outputs, accept_cems, close_stacks, convert
from streams.rules import RuleSet
from streams.windows import MINUTE_MS


def process_group(
    table: PointTable,
    ix: PointIndex,
    rules: RuleSet,
    states: dict[str, DeviceState],
    batches: Sequence[tuple[str, dict[str, Any]]],
) -> Outputs:
    """Apply ``batches`` (device, ``ReadingBatch`` dict), in order, to the device states
    (changed in place: the caller passes working copies)."""
    out = Outputs()
    # the counter/rate readings of the group, as the scalar path orders them: batch by batch,
    # each batch by (ts, point), equal keys in arrival order
    device_no: dict[str, int] = {}
    r_g: list[int] = []
    r_ts: list[Any] = []
    r_value: list[Any] = []
    r_bad: list[bool] = []
    lengths: list[int] = []
    per_batch: list[list[Anomaly]] = [[] for _ in batches]
    cems_batches: list[int] = []
    index = ix.index
    for b, (device, batch) in enumerate(batches):
        state = states[device]
        state.setdefault("alerts", {})
        state.setdefault("points", {})
        state.setdefault("cems", {})
        device_no.setdefault(device, len(device_no))
        rs = batch["readings"]
        gs = [index.get(r["point"], -1) for r in rs]
        if gs and min(gs) < 0:  # CEMS species, gauges, unknown points: the rare path
            keep = []
            for g, r in zip(gs, rs, strict=True):
                if g >= 0:
                    keep.append(r)
                elif r["point"] in table.cems_points:
                    if b not in cems_batches:
                        cems_batches.append(b)
                elif r["point"] not in table.points:
                    per_batch[b].append(Anomaly(r["point"], "", "unknown_point", int(r["ts"]),
                                                float(r["value"])))  # fmt: skip
            rs = keep
            gs = [g for g in gs if g >= 0]
        r_g.extend(gs)
        r_ts.extend([r["ts"] for r in rs])
        r_value.extend([r["value"] for r in rs])
        r_bad.extend([r.get("q", "good") != "good" for r in rs])
        lengths.append(len(rs))
    if cems_batches:
        _cems(table, rules, states, batches, cems_batches, out)
    # unknown points of a batch: in (ts, point) order, as the scalar path lists them
    for anomalies in per_batch:
        anomalies.sort(key=lambda a: (a.ts_ms, a.point))
    if r_g:
        g_arr = np.array(r_g, np.int64)
        value = np.array(r_value, np.float64)
        good = ~np.array(r_bad, bool) & np.isfinite(value)
        batch_no = np.repeat(np.arange(len(lengths)), lengths)
        dev = np.array([device_no[d] for d, _ in batches], np.int64)[batch_no]
        ts = np.array(r_ts, np.int64)
        if not good.all():
            g_arr, batch_no, dev, ts = g_arr[good], batch_no[good], dev[good], ts[good]
            value = value[good]
        if len(g_arr):
            names = list(device_no)
            _step(table, ix, states, names, out, per_batch, g_arr, dev, ts, value, batch_no)
    for b, (device, batch) in enumerate(batches):
        out.alerts.extend(anomaly_alerts(rules, per_batch[b], batch, states[device]["alerts"]))
    return out


def _cems(
    table: PointTable,
    rules: RuleSet,
    states: dict[str, DeviceState],
    batches: Sequence[tuple[str, dict[str, Any]]],
    which: list[int],
    out: Outputs,
) -> None:
    """CEMS species readings, batch by batch with the scalar path's code."""
    for b in which:
        device, batch = batches[b]
        state = states[device]
        touched: set[str] = set()
        for r in sorted(batch["readings"], key=lambda r: (r["ts"], r["point"])):
            pid = r["point"]
            if pid not in table.cems_points:
                continue
            value = float(r["value"])
            good = r.get("q", "good") == "good" and math.isfinite(value)
            accept_cems(table, state["cems"], pid, int(r["ts"]), value, good)
            touched.add(table.cems_points[pid][0])
        close_stacks(table, rules, state, touched, out)


def _step(
    table: PointTable,
    ix: PointIndex,
    states: dict[str, DeviceState],
    names: list[str],
    out: Outputs,
    per_batch: list[list[Anomaly]],
    g: I64,
    dev: I64,
    ts: I64,
    value: F64,
    batch: I64,
) -> None:
    """The vectorised step over the group's good counter/rate readings. A point's state is
    per device (the key of the readings), so the step's points are (device, point) pairs."""
    n = len(ix.ids)
    pairs, local = np.unique(dev * n + g, return_inverse=True)
    local = local.reshape(-1).astype(np.int64)
    order = np.lexsort((np.arange(len(g)), g, ts, batch))  # point ids sorted: g ranks them
    local, ts, value, batch = local[order], ts[order], value[order], batch[order]
    pair_g, pair_dev = pairs % n, pairs // n
    lix = PointIndex([ix.ids[i] for i in pair_g.tolist()], {}, ix.kind[pair_g],
                     ix.modulus[pair_g], ix.max_rate_per_h[pair_g])  # fmt: skip
    arrays = PointArrays.empty(len(pairs))
    devices = [names[d] for d in pair_dev.tolist()]
    for li, (device, pid) in enumerate(zip(devices, lix.ids, strict=True)):
        stored = states[device]["points"].get(pid)
        if stored is not None:
            last_ts, last_value, open_start, open_amount = stored
            arrays.has_last[li] = last_ts is not None
            arrays.last_ts[li] = last_ts or 0
            arrays.last_value[li] = 0.0 if last_value is None else float(last_value)
            arrays.has_open[li] = open_start is not None
            arrays.open_start[li] = open_start or 0
            arrays.open_amount[li] = 0.0 if open_amount is None else float(open_amount)
    res = step_group(lix, arrays, local, ts, value, size_ms=MINUTE_MS,
                     long_gap_ms=table.long_gap_ms)  # fmt: skip
    out.stale += int(res.stale.sum())
    # the new states of the touched points (lists as ``PointState.to_list``)
    rows = zip(arrays.has_last.tolist(), arrays.last_ts.tolist(), arrays.last_value.tolist(),
               arrays.has_open.tolist(), arrays.open_start.tolist(),
               arrays.open_amount.tolist(), strict=True)  # fmt: skip
    for li, (hl, lt, lv, ho, os_, oa) in enumerate(rows):
        states[devices[li]]["points"][lix.ids[li]] = [lt if hl else None, lv,
                                                      os_ if ho else None, oa]  # fmt: skip
    # anomalies, per batch in the scalar order (reading order, then reset/rollover, implausible,
    # long gap)
    ao = np.lexsort((res.anomaly_kind, res.anomaly_reading))
    for r, k, v in zip(res.anomaly_reading[ao].tolist(), res.anomaly_kind[ao].tolist(),
                       res.anomaly_value[ao].tolist(), strict=True):  # fmt: skip
        li = int(local[r])
        pid = lix.ids[li]
        per_batch[int(batch[r])].append(
            Anomaly(pid, table.points[pid].enterprise, ANOMALY_KINDS[k], int(ts[r]), v)
        )
    # closed minutes and long-gap intervals, then the open minutes that hold an amount
    closed = [(lix.ids[p], s, e, a) for p, s, e, a in zip(
        res.closed_point.tolist(), res.closed_start.tolist(), res.closed_end.tolist(),
        res.closed_amount.tolist(), strict=True)]  # fmt: skip
    opened = zip(res.open_point.tolist(), res.open_start.tolist(), res.open_amount.tolist(),
                 strict=True)  # fmt: skip
    closed.extend((lix.ids[p], s, s + MINUTE_MS, a) for p, s, a in opened if a != 0.0)
    if closed:
        convert(table, closed, out)
