"""``streams.group.process_group`` stores what ``processor.process_batch`` stores, batch by
batch: the same consumption and emission records (the latest per natural key, as the sink
keeps them), the same alerts, CEMS hours, stale count and device states, on random batches of
several devices with every fault kind, unknown points and a CEMS stack, cut into groups at
random."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
from fault_stream import T0, make_stream, make_table

from streams.columnar import PointIndex
from streams.group import process_group
from streams.points import PointTable, StackInfo
from streams.processor import Outputs, process_batch
from streams.rules import load_rules

MIN = 60_000


def batches_of(rng: random.Random, table: PointTable, n: int) -> list[tuple[str, dict[str, Any]]]:
    """Points shared out to 3 devices, each device's stream cut into batches; a CEMS stack
    with minutes of its own, and now and then a point the table does not know."""
    ids = sorted(table.points)
    owner = {p: f"d{i % 3}" for i, p in enumerate(ids)}
    readings = make_stream(rng, table, n)
    per_device: dict[str, list[dict[str, Any]]] = {}
    for r in readings:
        per_device.setdefault(owner[r["point"]], []).append(r)
        if rng.random() < 0.02:
            per_device[owner[r["point"]]].append({"point": "nope", "ts": r["ts"], "value": 1.0})
    out: list[tuple[str, dict[str, Any]]] = []
    for device, rs in per_device.items():
        i = 0
        while i < len(rs):
            k = rng.randrange(1, 8)
            out.append((device, {"device": device, "seq": i, "sent_ms": 0, "readings": rs[i:i + k]}))
            i += k
    rng.shuffle(out)  # devices interleave, and a device's batches arrive out of order too
    order = {d: [b for b in out if b[0] == d] for d in per_device}
    merged: list[tuple[str, dict[str, Any]]] = []
    while any(order.values()):
        d = rng.choice([d for d, bs in order.items() if bs])
        merged.append(order[d].pop(0))
    stack = [(f"s{m}", m) for m in range(rng.randrange(0, 130))]
    for _, m in stack:
        ts = T0 + m * MIN
        rec = [{"point": f"st.{sp}", "ts": ts, "value": v, "q": "good" if m % 17 else "bad"}
               for sp, v in (("co2", 9.0), ("so2", 60.0 if 20 <= m < 40 else 20.0),
                             ("flow", 42_000.0))]  # fmt: skip
        merged.insert(rng.randrange(0, len(merged) + 1) if merged else 0,
                      ("st", {"device": "st", "seq": m, "sent_ms": 0, "readings": rec}))  # fmt: skip
    # the stack's batches in minute order
    st = iter(sorted((b for b in merged if b[0] == "st"), key=lambda b: b[1]["seq"]))
    return [next(st) if b[0] == "st" else b for b in merged]


def stored(outs: list[Outputs]) -> dict[str, Any]:
    """What the sink keeps of a sequence of outputs: the latest record per natural key."""
    cons, ems = {}, {}
    alerts, hours, stale = [], [], 0
    for o in outs:
        cons.update({(c["point"], c["start_ms"], c["end_ms"]): c for c in o.consumption})
        ems.update({(e["source"], e["start_ms"], e["end_ms"]): e for e in o.emissions})
        alerts.extend(json.dumps(a, sort_keys=True) for a in o.alerts)
        hours.extend(json.dumps(h.to_dict(), sort_keys=True) for h in o.cems_hours)
        stale += o.stale
    return {"consumption": {repr(k): json.dumps(v, sort_keys=True) for k, v in cons.items()},
            "emissions": {repr(k): json.dumps(v, sort_keys=True) for k, v in ems.items()},
            "alerts": sorted(alerts), "hours": hours, "stale": stale}  # fmt: skip


@pytest.mark.parametrize("seed", range(25))
def test_group_stores_what_batch_by_batch_stores(seed: int) -> None:
    rng = random.Random(seed)
    table = make_table(rng, rng.randrange(1, 10))
    table.stacks = {"st": StackInfo("st", "e", ("co2", "so2", "flow"), {"so2": 50.0})}
    table.__post_init__()
    table.long_gap_ms = rng.choice([3_600_000, 30 * MIN])
    rules = load_rules()
    batches = batches_of(rng, table, rng.randrange(1, 1_200))
    scalar_states: dict[str, dict[str, Any]] = {}
    scalar = [process_batch(table, rules, scalar_states.setdefault(d, {}), b) for d, b in batches]
    ix = PointIndex.of(table)
    states: dict[str, dict[str, Any]] = {}
    cuts = sorted({0, len(batches), *(rng.randrange(0, len(batches) + 1) for _ in range(6))})
    grouped = []
    for a, b in itertools.pairwise(cuts):
        group = batches[a:b]
        for d, _ in group:
            states.setdefault(d, {})
        grouped.append(process_group(table, ix, rules, states, group))
    want, got = stored(scalar), stored(grouped)
    assert want["consumption"] or len(batches) < 5
    assert got["consumption"] == want["consumption"]
    assert got["emissions"] == want["emissions"]
    assert got["alerts"] == want["alerts"]
    assert got["hours"] == want["hours"]
    assert got["stale"] == want["stale"]
    assert json.dumps(states, sort_keys=True) == json.dumps(scalar_states, sort_keys=True)


def test_a_group_sends_each_open_minute_once() -> None:
    """Six 10 s batches of one point inside one minute: batch by batch, six records of the open
    minute; as a group, one (its latest amount)."""
    rng = random.Random(1)
    table = make_table(rng, 1)
    pid = next(iter(table.points))
    batches = [("d", {"device": "d", "seq": i, "sent_ms": 0,
                      "readings": [{"point": pid, "ts": T0 + i * 10_000, "value": 10.0 + i}]})
               for i in range(6)]  # fmt: skip
    states: dict[str, dict[str, Any]] = {"d": {}}
    out = process_group(table, PointIndex.of(table), load_rules(), states, batches)
    assert [(c["start_ms"], c["end_ms"]) for c in out.consumption] == [(T0, T0 + MIN)]
