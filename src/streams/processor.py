"""One device's reading batch in, records out: the pure core the Faust agent wraps.

State is per device (the key of ``nt.readings.v1``), a JSON-able dict: ``{"points": {point:
PointState list}, "cems": {stack: CemsState dict}, "alerts": {...}}``. The same batch applied
twice, or any batch older than what the state has seen, produces no new consumption. A minute
is emitted when it closes, with its final amount, and while it is open, with the amount so far
(same natural key, so the sink's upsert keeps the latest and totals up to the newest reading
are always in the database).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streams.alerts import AlertState
from streams.cems import CemsState, HourlyCems, accept_minute, close_hours
from streams.counters import (
    PointState,
    Step,
    StepKind,
    book_step,
    counter_step,
    is_long,
    rate_step,
)
from streams.device_alerts import (
    Anomaly,
    anomaly_alerts,
    hourly_pollutant_alerts,
    invalid_hour_alerts,
    pollutant_alerts,
)
from streams.points import PointTable, year_of
from streams.rules import RuleSet
from streams.windows import MINUTE_MS

DeviceState = dict[str, Any]


@dataclass(slots=True)
class Outputs:
    """What one batch produced, already as contract dicts (see ``ingest.contract``)."""

    consumption: list[dict[str, Any]] = field(default_factory=list)
    emissions: list[dict[str, Any]] = field(default_factory=list)
    cems_hours: list[HourlyCems] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    stale: int = 0
    """Readings not counted because they were not newer than the point's latest."""


def process_batch(
    table: PointTable, rules: RuleSet, state: DeviceState, batch: dict[str, Any]
) -> Outputs:
    """Apply one reading batch (a ``ReadingBatch`` as a dict) to the device state."""
    out = Outputs()
    alert_state: dict[str, AlertState] = state.setdefault("alerts", {})
    points_state: dict[str, list[Any]] = state.setdefault("points", {})
    cems_state: dict[str, dict[str, Any]] = state.setdefault("cems", {})
    closed: list[tuple[str, int, int, float]] = []
    touched_stacks: set[str] = set()
    touched: set[str] = set()
    for reading in sorted(batch["readings"], key=lambda r: (r["ts"], r["point"])):
        pid, ts, value = reading["point"], int(reading["ts"]), float(reading["value"])
        good = reading.get("q", "good") == "good" and math.isfinite(value)
        if pid in table.cems_points:
            accept_cems(table, cems_state, pid, ts, value, good)
            touched_stacks.add(table.cems_points[pid][0])
            continue
        info = table.points.get(pid)
        if info is None:
            out.anomalies.append(Anomaly(pid, "", "unknown_point", ts, value))
            continue
        if info.kind == "gauge" or not good:
            continue
        ps = PointState.from_list(points_state[pid]) if pid in points_state else PointState()
        step: Step
        if info.kind == "counter":
            step = counter_step(
                ps, ts, value, modulus=info.modulus, max_rate_per_h=info.max_rate_per_h
            )
        else:
            step = rate_step(ps, ts, value)
        if step.kind is StepKind.STALE:
            out.stale += 1
        elif step.kind in (StepKind.RESET, StepKind.ROLLOVER):
            out.anomalies.append(Anomaly(pid, info.enterprise, step.kind.value, ts, value))
        if step.implausible:
            out.anomalies.append(Anomaly(pid, info.enterprise, "implausible_jump", ts, step.amount))
        if is_long(step, table.long_gap_ms):
            out.anomalies.append(Anomaly(pid, info.enterprise, "long_gap", ts, step.amount))
        booked = book_step(ps, step, MINUTE_MS, table.long_gap_ms)
        closed.extend((pid, start, end, amount) for start, end, amount in booked)
        points_state[pid] = ps.to_list()
        touched.add(pid)
    for pid in sorted(touched):
        # The open minute goes out too, as it stands: the database then always holds the total
        # up to the latest reading, and the final value of the minute replaces it (same key).
        ps = PointState.from_list(points_state[pid])
        if ps.open_start_ms is not None and ps.open_amount != 0.0:
            closed.append((pid, ps.open_start_ms, ps.open_start_ms + MINUTE_MS, ps.open_amount))
    if closed:
        convert(table, closed, out)
    close_stacks(table, rules, state, touched_stacks, out)
    out.alerts.extend(anomaly_alerts(rules, out.anomalies, batch, alert_state))
    return out


def accept_cems(
    table: PointTable,
    cems_state: dict[str, dict[str, Any]],
    pid: str,
    ts: int,
    value: float,
    good: bool,
) -> None:
    """One CEMS species reading into its stack's minutes."""
    stack, species = table.cems_points[pid]
    cs = CemsState.from_dict(cems_state.get(stack))
    accept_minute(cs, ts, species, value, good)
    cems_state[stack] = cs.to_dict()


def close_stacks(
    table: PointTable, rules: RuleSet, state: DeviceState, stacks: set[str], out: Outputs
) -> None:
    """Stack alerts and the hours that became complete, of the stacks a batch touched."""
    alert_state: dict[str, AlertState] = state.setdefault("alerts", {})
    cems_state: dict[str, dict[str, Any]] = state.setdefault("cems", {})
    for stack in sorted(stacks):
        cs = CemsState.from_dict(cems_state[stack])
        stack_info = table.stacks[stack]
        out.alerts.extend(pollutant_alerts(rules, stack_info, cs, alert_state))
        hours = close_hours(cs, stack_info)
        out.cems_hours.extend(hours)
        out.alerts.extend(hourly_pollutant_alerts(rules, stack_info, hours, alert_state))
        out.alerts.extend(invalid_hour_alerts(rules, stack_info, hours, alert_state))
        cems_state[stack] = cs.to_dict()


def convert(table: PointTable, closed: list[tuple[str, int, int, float]], out: Outputs) -> None:
    """Closed minutes (and long-gap intervals) to consumption and emission records, kgce and
    CO₂e vectorised per year (an interval takes the factors of the year it starts in). What
    is the same for every record of a point and year is looked up once per call."""
    by_year: dict[int, list[tuple[str, int, int, float]]] = {}
    years: dict[int, int] = {}
    for item in closed:
        hour = item[1] // 3_600_000  # a year starts on an hour: one lookup per hour met
        year = years.get(hour)
        if year is None:
            year = years[hour] = year_of(item[1])
        by_year.setdefault(year, []).append(item)
    for year, items in sorted(by_year.items()):
        ids = [c[0] for c in items]
        quantities = np.fromiter((c[3] for c in items), dtype=float, count=len(items))
        _, idx, kgce, co2e = table.convert(year, ids, quantities)
        for pid, start, end, qty, row, kg, co2e_t in zip(
            ids, (c[1] for c in items), (c[2] for c in items), (c[3] for c in items),
            idx.tolist(), kgce.tolist(), co2e.tolist(), strict=True,
        ):  # fmt: skip
            enterprise, carrier, uom, emits, category, scope, per_gas, factor_id = (
                table.record_fields(year, pid, row)
            )
            out.consumption.append(
                {
                    "point": pid,
                    "enterprise": enterprise,
                    "carrier": carrier,
                    "start_ms": start,
                    "end_ms": end,
                    "quantity": qty,
                    "uom": uom,
                    "kgce": kg,
                }
            )
            if not emits:
                continue
            out.emissions.append(
                {
                    "source": pid,
                    "enterprise": enterprise,
                    "category": category,
                    "scope": scope,
                    "start_ms": start,
                    "end_ms": end,
                    "co2e_t": co2e_t,
                    "gases": {g: qty * c for g, c in per_gas.items()} if per_gas else {"CO2": co2e_t},
                    "factor_id": factor_id,
                    "method": "calculated",
                }
            )
