"""The engines without any server: an hour of the example park, truth against an independent
recomputation from the emitted values, and each engine-level fault visible in those values."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ingest.park import parse_park
from ingest.park.profiles import load_profiles
from simulators.cems import CemsEngine
from simulators.engine import MeterEngine
from simulators.faults import FaultPlan
from simulators.truth import CemsTruth

START = 1_767_571_200_000  # 2026-01-05T00:00:00Z, a Monday
HOUR = 3_600_000


class Run:
    """One simulated hour; emitted values per point and per stack minute."""

    def __init__(self, doc: dict[str, Any], seed: int = 42, end_ms: int = START + HOUR) -> None:
        self.park = parse_park(doc)
        plan = FaultPlan.build(self.park, START)
        self.meters = MeterEngine(self.park, load_profiles(), plan, START, seed)
        self.cems = CemsEngine(self.park, plan, START, seed)
        self.series: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.by_source: dict[str, list[int]] = defaultdict(list)  # emission instants
        self.events: list[dict[str, object]] = []
        self.cems_truth = CemsTruth()
        self.minutes: dict[str, dict[int, tuple[dict[str, float], str]]] = defaultdict(dict)
        for tick in self.meters.advance_to(end_ms):
            g = tick.group
            self.events.extend(tick.events)
            for di, dev in enumerate(g.devices):
                if not tick.emitting[di]:
                    continue
                ts = tick.t_ms + g.dev_skew_ms[di]
                self.by_source[dev.id].append(ts)
                a, b = g.dev_slices[di]
                for i in range(a, b):
                    self.series[g.point_ids[i]].append((ts, float(tick.values[i])))
        for m in self.cems.advance_to(end_ms):
            self.cems_truth.add(m)
            if m.emitted:
                self.minutes[m.stack.id][m.ts_ms] = (m.values, m.flag)
        self.truth = self.meters.truth_points()

    def values(self, pid: str, t0_s: float, t1_s: float) -> list[float]:
        return [v for ts, v in self.series[pid] if START + t0_s * 1000 <= ts < START + t1_s * 1000]


@pytest.fixture(scope="module")
def run_doc(park_doc: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return park_doc()


@pytest.fixture(scope="module")
def run(run_doc: dict[str, Any]) -> Run:
    return Run(run_doc)


def test_truth_equals_recomputation(run: Run, recompute: tuple[Callable[..., Any], ...]) -> None:
    points, stacks = recompute
    kinds = {pid: t["kind"] for pid, t in run.truth.items()}
    moduli = {pid: t["modulus"] for pid, t in run.truth.items()}
    again = points({p: run.series[p] for p in kinds}, kinds, moduli)
    assert set(again) == set(run.truth)
    for pid, total in again.items():
        assert run.truth[pid]["consumption"] == pytest.approx(total, rel=1e-12, abs=1e-9), pid
        assert run.truth[pid]["n_emitted"] == len(run.series[pid])
    # a counter at its nominal load over an hour lands near nominal (noise, shapes aside)
    assert 0.5 * 1200 < run.truth["acme.boiler1.gas"]["consumption"] < 1.5 * 1200
    cems = run.cems_truth.result()
    for stack, rows in stacks(run.minutes).items():
        hours = cems[stack]["hours"]
        assert [(h["hour_ms"], h["n_valid"]) for h in hours] == [(r[0], r[1]) for r in rows]
        for h, r in zip(hours, rows, strict=True):
            assert h["co2_t"] == pytest.approx(r[2], rel=1e-12)
            assert h["so2_kg"] == pytest.approx(r[3], rel=1e-12)


def test_deterministic_with_seed(run_doc: dict[str, Any]) -> None:
    a, b, c = Run(run_doc, seed=7), Run(run_doc, seed=7), Run(run_doc, seed=8)
    assert a.series == b.series
    assert a.series["acme.grid.kw"] != c.series["acme.grid.kw"]


def test_counter_reset(run: Run) -> None:
    # reset right after the first emission at or after 1200 s (acme-m1 ticks every 10 s)
    before = run.values("acme.grid.kwh", 1190, 1201)
    after = run.values("acme.grid.kwh", 1201, 1211)
    assert before[-1] > 500 and after[0] < 10  # 20 min at ~2500 kWh/h; then 10 s: ~7 kWh
    assert {
        "kind": "counter_reset",
        "target": "acme.grid.kwh",
        "t": START + 1_200_000,
    } in run.events


def test_counter_rollover(run: Run) -> None:
    series = run.series["acme.water.m3"]
    drops = [(v1, v2) for (_, v1), (_, v2) in itertools.pairwise(series) if v2 < v1]
    assert len(drops) == 1
    v1, v2 = drops[0]
    assert v1 > 99_990 and v2 < 10  # wraps at the profile's 100 000 m3
    wrap_t = next(e["t"] for e in run.events if e["kind"] == "counter_rollover")
    assert abs(int(wrap_t) - (START + 1_800_000)) <= 300_000  # "about at_s": within 5 min


def test_stuck_value(run: Run) -> None:
    stuck = run.values("acme.synth.kwh", 600, 1200)
    assert len(set(stuck)) == 1 and len(stuck) == 60
    before = run.values("acme.synth.kwh", 590, 600)[-1]
    assert stuck[0] == before  # repeats the last value...
    jump = run.values("acme.synth.kwh", 1200, 1210)[0]
    assert jump - stuck[0] > 100  # ...then jumps to the truth (10 min of ~950 kWh/h)


def test_offline_and_gap_emit_nothing(run: Run) -> None:
    for dev, t0, t1 in (("acme-m4", 2400, 2700), ("sunrise-gw", 1500, 1800)):
        inside = [t for t in run.by_source[dev] if START + t0 * 1000 <= t < START + t1 * 1000]
        assert inside == []
        assert any(START + t1 * 1000 <= t for t in run.by_source[dev])
    # a rate holds its last sample across the gap: the integral spans it
    flow = run.series["acme.steam.flow"]
    gap = [(t1, t2) for (t1, _), (t2, _) in itertools.pairwise(flow) if t2 - t1 > 10_000]
    assert gap == [(START + 2_390_000, START + 2_700_000)]


def test_clock_skew(run: Run) -> None:
    assert all((t - START) % 60_000 == 30_000 for t in run.by_source["hengli-gw"])  # +90 s
    assert run.truth["hengli.pv.kwh"]["first_ts"] == START + 90_000


def test_over_emission_and_flags(run: Run) -> None:
    so2 = {ts: v["so2"] for ts, (v, _) in run.minutes["hengli-stk1"].items()}
    inside = [v for ts, v in so2.items() if START + 1_800_000 <= ts < START + 2_700_000]
    outside = [v for ts, v in so2.items() if ts < START + 1_800_000]
    assert min(inside) > 50 > max(outside)  # limit 50 mg/m3: exceeded only in the episode
    flags = [f for ts, (_, f) in sorted(run.minutes["acme-stk1"].items())]
    assert flags.count("C") == 5 and flags.count("N") == 55


def test_modbus_values_are_register_exact(run: Run) -> None:
    kw = np.array([v for _, v in run.series["acme.grid.kw"]])
    assert np.array_equal(kw, kw.astype(np.float32).astype(np.float64))  # float32 register
    u32 = np.array([v for _, v in run.series["acme.synth.kwh"]])
    assert np.allclose(np.rint(u32 / 0.01) * 0.01, u32, rtol=0, atol=1e-9)  # 0.01 kWh steps


def test_enterprise_over_emission_scales_loads_and_flue_gas(run_doc: dict[str, Any]) -> None:
    import copy

    doc = copy.deepcopy(run_doc)
    doc["faults"] = [
        {"kind": "over_emission", "target": "hengli", "at_s": 600, "duration_s": 600, "factor": 2}
    ]
    plain_doc = copy.deepcopy(run_doc)
    plain_doc["faults"] = []
    hot, plain = Run(doc), Run(plain_doc)  # same seed: the same random draws
    for pid in ("hengli.grid.kw", "hengli.furnace.fuel_flow"):
        a = dict(hot.series[pid])
        b = dict(plain.series[pid])
        inside = [t for t in a if START + 600_000 <= t < START + 1_200_000]
        assert inside and all(a[t] == pytest.approx(2 * b[t], rel=1e-6) for t in inside)
        assert all(a[t] == b[t] for t in a if t < START + 600_000)
    flow_hot = {ts: v["flow"] for ts, (v, _) in hot.minutes["hengli-stk1"].items()}
    flow = {ts: v["flow"] for ts, (v, _) in plain.minutes["hengli-stk1"].items()}
    t = START + 900_000
    assert flow_hot[t] == pytest.approx(2 * flow[t], abs=0.11)  # 1 decimal on the wire
    assert (
        hot.cems_truth.result()["hengli-stk1"]["totals"]["co2_t"]
        > plain.cems_truth.result()["hengli-stk1"]["totals"]["co2_t"]
    )


def test_counter_follows_its_devices_rate(run: Run) -> None:
    kwh = dict(run.series["acme.grid.kwh"])
    kw = dict(run.series["acme.grid.kw"])
    ts = sorted(kwh)[:100]  # before the reset at 1200 s
    for t1, t2 in itertools.pairwise(ts):
        # the counter advanced at the power the meter showed over the 10 s tick
        assert kwh[t2] - kwh[t1] == pytest.approx(kw[t1] * (t2 - t1) / HOUR, abs=2e-3)


def test_preset_beyond_modulus_wraps_before_the_first_reading(
    run_doc: dict[str, Any], recompute: tuple[Callable[..., Any], ...]
) -> None:
    import copy

    doc = copy.deepcopy(run_doc)
    water = next(p for p in doc["enterprises"][0]["points"] if p["id"] == "acme.water.m3")
    water["load"]["initial"] = 250_000.5  # the register wraps at 100 000 m3
    doc["faults"] = []
    r = Run(doc)
    assert r.series["acme.water.m3"][0][1] == pytest.approx(50_000.5)
    points, _ = recompute
    again = points({"acme.water.m3": r.series["acme.water.m3"]}, {"acme.water.m3": "counter"}, {})
    assert r.truth["acme.water.m3"]["consumption"] == pytest.approx(again["acme.water.m3"])


def test_generated_park_runs_and_unknown_shapes_are_named() -> None:
    import json

    from ingest.park.generate import generate_park_yaml
    from nengtan.errors import ConfigError

    doc = json.loads(generate_park_yaml(enterprises=5, points=200, seed=1))
    r = Run(doc, end_ms=START + 600_000)
    assert len(r.truth) > 100 and all(t["n_emitted"] > 0 for t in r.truth.values())
    doc["enterprises"][0]["points"][0]["load"]["shape"] = "lunar"
    with pytest.raises(
        ConfigError, match=r"point e00000-m0.import_kwh: unknown load shape 'lunar'"
    ):
        Run(doc)


def test_quantisation_equals_the_codec_round_trip(run: Run) -> None:
    from adapters.modbus.codec import decode, encode

    rng = np.random.default_rng(3)
    for g in run.meters.groups:
        x = rng.uniform(0, 5_000, g.size)
        q = run.meters._quantise(g, x)
        for i, b in enumerate(g.bindings):
            if b is not None:  # what a poller decodes is exactly what the truth used
                assert q[i] == decode(encode(float(x[i]), b.encoding), b.encoding), g.point_ids[i]
