"""The device processor end to end on literal batches: exact totals under faults, factor ids,
CEMS hours and stack alerts (no broker)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from streams.points import PointInfo, PointTable, StackInfo
from streams.processor import process_batch
from streams.rules import load_rules

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
MIN = 60_000


def make_table() -> PointTable:
    points = {
        "e.kwh": PointInfo("e.kwh", "ent", "counter", "electricity", "kWh", "kWh", "purchased",
                           modulus=100_000.0, max_rate_per_h=10_000.0, inventory=True),
        "e.kw": PointInfo("e.kw", "ent", "rate", "electricity", "kW", "kWh", "purchased"),
        # no coefficients for generated steam: consumption only, kgce 0
        "e.steam": PointInfo("e.steam", "ent", "rate", "steam", "t/h", "t", "generated"),
    }  # fmt: skip
    stacks = {"s1": StackInfo("s1", "ent", ("co2", "so2", "flow"), {"so2": 50.0})}
    return PointTable("park", points, stacks)


def batch(
    device: str, seq: int, readings: list[tuple[str, int, float]], q: str = "good"
) -> dict[str, Any]:
    return {
        "schema": "nt.readings/1", "device": device, "seq": seq, "sent_ms": 0,
        "readings": [{"point": p, "ts": ts, "value": v, "q": q} for p, ts, v in readings],
    }  # fmt: skip


def test_counter_totals_exact_under_reset_rollover_duplicates_and_late_batches() -> None:
    table, rules, state = make_table(), load_rules(), {}
    feed = [
        batch("m", 0, [("e.kwh", T0 + 5_000, 99_990.0)]),
        batch("m", 1, [("e.kwh", T0 + 65_000, 99_998.0)]),
        batch("m", 1, [("e.kwh", T0 + 65_000, 99_998.0)]),  # duplicate
        batch("m", 3, [("e.kwh", T0 + 185_000, 6.0)]),  # rollover: 6 + 100000 - 99998 = 8
        batch("m", 2, [("e.kwh", T0 + 125_000, 2.0)]),  # late batch: ignored
        batch("m", 4, [("e.kwh", T0 + 245_000, 3.0)]),  # reset: counts 3
        batch("m", 5, [("e.kwh", T0 + 300_000, 4.5)]),
    ]
    stored: dict[tuple[str, int], float] = {}  # what the sink keeps: the latest per key
    stale = 0
    for b in feed:
        out = process_batch(table, rules, state, b)
        stored.update({(r["point"], r["start_ms"]): r["quantity"] for r in out.consumption})
        stale += out.stale
    # truth: 8 + 8 + 3 + 1.5 = 20.5 kWh between the first and the last emitted reading
    assert math.fsum(stored.values()) == pytest.approx(20.5, rel=1e-12)
    assert stale == 2
    # one record per minute from the first reading to the last (which ends on a minute bound)
    assert sorted(k[1] for k in stored) == [T0 + i * MIN for i in range(5)]


def test_emissions_name_their_factor_and_equal_quantity_times_coefficient() -> None:
    table, rules, state = make_table(), load_rules(), {}
    first = [("e.kwh", T0, 100.0), ("e.kw", T0, 600.0), ("e.steam", T0, 6.0)]
    second = [("e.kwh", T0 + MIN, 110.0), ("e.kw", T0 + MIN, 0.0), ("e.steam", T0 + MIN, 6.0)]
    process_batch(table, rules, state, batch("m", 0, first))
    out = process_batch(table, rules, state, batch("m", 1, second))
    by_point = {c["point"]: c for c in out.consumption}
    # 10 kWh; the rate 600 kW held for 1 min = 10 kWh as well.
    assert by_point["e.kwh"]["quantity"] == pytest.approx(10.0)
    assert by_point["e.kw"]["quantity"] == pytest.approx(10.0)
    assert by_point["e.kwh"]["kgce"] == pytest.approx(1.229)  # 10 kWh × 0.1229 kgce/kWh
    assert (
        by_point["e.steam"]["quantity"] == pytest.approx(0.1) and by_point["e.steam"]["kgce"] == 0
    )
    assert "e.steam" in table.unaccounted
    # only the inventory point (the counter) emits; the kW signal is not added to it
    assert [e["source"] for e in out.emissions] == ["e.kwh"]
    em = out.emissions[0]
    coef = table.coefficients(2026)
    row = coef.index["e.kwh"]
    assert em["factor_id"] == coef.factor_id(row) and em["method"] == "calculated"
    assert em["co2e_t"] == pytest.approx(10.0 * coef.co2e_t_per_unit[row], rel=1e-15)
    assert em["scope"] == 2 and em["category"] == "purchased_electricity"


def cems_minutes(
    start_min: int, n: int, co2: float = 10.0, so2: float = 30.0, q: str = "good"
) -> list[dict[str, Any]]:
    out = []
    for i in range(start_min, start_min + n):
        ts = T0 + i * MIN
        out.append(
            batch("s1", i, [("s1.co2", ts, co2), ("s1.so2", ts, so2), ("s1.flow", ts, 36_000.0)], q)
        )
    return out


def test_cems_hour_mass_and_average() -> None:
    table, rules, state = make_table(), load_rules(), {}
    hours = []
    for b in cems_minutes(0, 66):
        hours += process_batch(table, rules, state, b).cems_hours
    assert len(hours) == 1
    h = hours[0]
    # minute CO2: 10 % of 36000/60 = 600 Nm3 -> 60 Nm3 × 1.9643 kg/Nm3 = 117.858 kg; × 60 = 7.07148 t
    assert h.valid and h.n_valid == 60 and h.substitution is None
    assert h.co2_t == pytest.approx(7.07148, rel=1e-12)
    # SO2: 30 mg/m3 × 600 m3 = 18 g a minute -> 1.08 kg an hour
    assert h.pollutant_kg["so2"] == pytest.approx(1.08, rel=1e-12)
    assert h.pollutant_avg_mg_m3["so2"] == pytest.approx(30.0)


def test_cems_invalid_hour_is_substituted_once_the_next_valid_hour_closes() -> None:
    table, rules, state = make_table(), load_rules(), {}
    feed = cems_minutes(0, 60) + cems_minutes(60, 20, q="uncertain") + cems_minutes(80, 40)
    feed += cems_minutes(120, 60, co2=20.0) + cems_minutes(180, 6)
    hours = []
    alerts = []
    for b in feed:
        out = process_batch(table, rules, state, b)
        hours += out.cems_hours
        alerts += out.alerts
    by = [(h.hour_start_ms - T0) // 3_600_000 for h in hours]
    assert by == [0, 1, 2, 1]
    assert hours[1].substitution == "provisional" and hours[1].n_valid == 40
    assert hours[3].substitution == "mean_either_side"
    # mean of the valid hours either side: (7.07148 + 14.14296) / 2
    assert hours[3].co2_t == pytest.approx((7.07148 + 14.14296) / 2, rel=1e-12)
    invalid = [a for a in alerts if a["rule_id"] == "stack-cems-invalid-hour"]
    assert [a["state"] for a in invalid] == ["raised", "cleared"]


def test_pollutant_episode_raises_and_clears_once() -> None:
    table, rules, state = make_table(), load_rules(), {}
    feed = cems_minutes(0, 30) + cems_minutes(30, 15, so2=150.0) + cems_minutes(45, 45)
    alerts = []
    for b in feed + feed[40:50]:  # re-sent batches change nothing
        alerts += process_batch(table, rules, state, b).alerts
    so2 = [a for a in alerts if a["rule_id"] == "stack-pollutant-15m"]
    assert [a["state"] for a in so2] == ["raised", "cleared"]
    assert so2[0]["alert_id"] == so2[1]["alert_id"] and so2[0]["scope"] == "stack:s1.so2"
    assert so2[0]["threshold"] == 50.0 and so2[0]["value"] > 50.0
    # 15-min average crosses 50 after 3 bad minutes ((3×150 + 12×30)/15 = 54); held 3 min
    assert so2[0]["ts"] == T0 + (33 + 3) * MIN


def test_complete_hour_closes_at_its_last_minute() -> None:
    table, rules, state = make_table(), load_rules(), {}
    hours = []
    for b in cems_minutes(0, 60):
        hours += process_batch(table, rules, state, b).cems_hours
    assert [h.hour_start_ms for h in hours] == [T0]


def test_clock_hour_average_above_limit_raises_at_hour_end_and_clears_next_hour() -> None:
    # hour 0: SO2 at 60 mg/m3 (limit 50); hour 1: 20 mg/m3
    table, rules, state = make_table(), load_rules(), {}
    alerts = []
    for b in cems_minutes(0, 60, so2=60.0) + cems_minutes(60, 60, so2=20.0):
        alerts += process_batch(table, rules, state, b).alerts
    hourly = [a for a in alerts if a["rule_id"] == "stack-pollutant-hourly"]
    assert [(a["state"], a["ts"]) for a in hourly] == [
        ("raised", T0 + 3_600_000),
        ("cleared", T0 + 7_200_000),
    ]
    assert hourly[0]["value"] == pytest.approx(60.0) and hourly[0]["severity"] == "critical"


DAY = 86_400_000


@pytest.mark.parametrize("point", ["e.kwh", "e.kw"])
def test_a_reading_after_300_days_is_one_interval_record_and_an_anomaly(point: str) -> None:
    """A step across a gap above the bound (1 h) is booked as one record [t0, t1) with the
    whole amount, after the minute open at t0, and raises a ``long_gap`` anomaly; split by the
    minute it would have been 432,000 records (the worker stalled on such a reading)."""
    table, rules, state = make_table(), load_rules(), {}
    process_batch(table, rules, state, batch("m", 0, [(point, T0 + 5_000, 100.0)]))
    process_batch(table, rules, state, batch("m", 1, [(point, T0 + 35_000, 110.0)]))
    late = T0 + 35_000 + 300 * DAY
    out = process_batch(table, rules, state, batch("m", 2, [(point, late, 130.0)]))
    spans = sorted((c["start_ms"], c["end_ms"]) for c in out.consumption)
    assert spans == [(T0, T0 + MIN), (T0 + 35_000, late)]
    amounts = {(c["start_ms"], c["end_ms"]): c["quantity"] for c in out.consumption}
    if point == "e.kwh":
        assert amounts[(T0 + 35_000, late)] == pytest.approx(20.0)
    else:  # 110 kW held for 300 days
        assert amounts[(T0 + 35_000, late)] == pytest.approx(110.0 * 300 * 24)
    assert [a.kind for a in out.anomalies] == ["long_gap"]
    assert [a["metric"] for a in out.alerts] == ["counter_long_gap"]
    assert all(a["state"] == "raised" for a in out.alerts)
    # the window of the late reading opens empty; the next minute closes from there
    nxt = process_batch(table, rules, state, batch("m", 3, [(point, late + MIN, 131.0)]))
    assert all(c["end_ms"] - c["start_ms"] == MIN for c in nxt.consumption)
    assert len(nxt.consumption) <= 2


def test_the_gap_bound_is_configurable_and_none_splits_by_the_minute() -> None:
    table, rules, state = make_table(), load_rules(), {}
    table.long_gap_ms = None
    process_batch(table, rules, state, batch("m", 0, [("e.kwh", T0, 0.0)]))
    out = process_batch(table, rules, state, batch("m", 1, [("e.kwh", T0 + 3 * 3_600_000, 180.0)]))
    assert len(out.consumption) == 3 * 60  # every minute closed (the open one is empty)
    assert not out.anomalies
    table, state = make_table(), {}
    table.long_gap_ms = 30 * MIN
    process_batch(table, rules, state, batch("m", 0, [("e.kwh", T0, 0.0)]))
    out = process_batch(table, rules, state, batch("m", 1, [("e.kwh", T0 + 31 * MIN, 31.0)]))
    assert [(c["start_ms"], c["end_ms"]) for c in out.consumption] == [
        (T0, T0 + MIN),
        (T0, T0 + 31 * MIN),
    ]
    assert math.fsum(c["quantity"] for c in out.consumption) == pytest.approx(31.0)
