"""Alert rules evaluated where the data of one device (or stack) is: pollutant rolling and
clock-hour averages against the stack's limits, invalid CEMS hours, counter anomalies.

Evaluation runs on event time: each CEMS minute is evaluated once, when it is first seen, in
the order of the input topic, so a replay or a restarted worker evaluates the same sequence
and sends the same alert ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from streams.alerts import AlertState, evaluate, event, quiet
from streams.cems import CemsState, HourlyCems
from streams.points import StackInfo
from streams.rules import RuleSet
from streams.windows import MINUTE_MS

Record = dict[str, Any]
MIN_VALID_SHARE = 0.75
"""A rolling average is judged once this share of its window's minutes is valid (45 of 60,
as for a valid CEMS hour)."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something about a point's data a person should look at (feeds data-quality rules)."""

    point: str
    enterprise: str
    kind: str
    """``reset``, ``rollover``, ``implausible_jump``, ``long_gap``, ``unknown_point``."""
    ts_ms: int
    value: float


def pollutant_alerts(
    rules: RuleSet, stack: StackInfo, cs: CemsState, states: dict[str, AlertState]
) -> list[Record]:
    """Evaluate the stack's new minutes against ``pollutant_avg`` rules (rolling averages of
    valid minutes over the rule's window; the limit from the park file)."""
    last = int(cs_state_get(states, stack.stack, "eval_ms", -1))
    new = sorted(m for m in cs.minutes if m > last)
    if not new:
        return []
    out: list[Record] = []
    minutes = np.array(sorted(cs.minutes), dtype=np.int64)
    for minute in new:
        for rule in rules.of_kind("pollutant_avg"):
            lo = minute - rule.window_ms + MINUTE_MS
            window = minutes[(minutes >= lo) & (minutes <= minute)]
            for species, limit in sorted(stack.limits_mg_m3.items()):
                vals = [cs.minutes[int(m)].get(species) for m in window]
                good = [v for v, ok in (x for x in vals if x is not None) if ok]
                if len(good) < MIN_VALID_SHARE * (rule.window_ms // MINUTE_MS):
                    continue  # too little valid data in the window to judge
                scope_id = f"{stack.stack}.{species}"
                st = states.setdefault(f"{rule.id}|{scope_id}", {})
                rec = evaluate(rule, st, scope_id, float(np.mean(good)),
                               rule.thresholds(scope_id, limit), minute + MINUTE_MS,
                               metric=f"{species}_avg_mg_m3")  # fmt: skip
                if rec is not None:
                    out.append(rec)
    states.setdefault(f"_stack|{stack.stack}", {})["eval_ms"] = new[-1]
    return out


def cs_state_get(states: dict[str, AlertState], stack: str, key: str, default: Any) -> Any:
    return states.get(f"_stack|{stack}", {}).get(key, default)


def hourly_pollutant_alerts(
    rules: RuleSet, stack: StackInfo, hours: list[HourlyCems], states: dict[str, AlertState]
) -> list[Record]:
    """``pollutant_hourly`` rules: each valid clock hour's average of each limited species
    against the stack's limit, judged once per hour, in hour order."""
    out: list[Record] = []
    for rule in rules.of_kind("pollutant_hourly"):
        mark = states.setdefault(f"_hour|{rule.id}|{stack.stack}", {})
        for h in sorted(hours, key=lambda h: h.hour_start_ms):
            if not h.valid or h.hour_start_ms <= int(mark.get("last", -1)):
                continue
            mark["last"] = h.hour_start_ms
            for species, limit in sorted(stack.limits_mg_m3.items()):
                if species not in h.pollutant_avg_mg_m3:
                    continue
                scope_id = f"{stack.stack}.{species}"
                st = states.setdefault(f"{rule.id}|{scope_id}", {})
                rec = evaluate(rule, st, scope_id, h.pollutant_avg_mg_m3[species],
                               rule.thresholds(scope_id, limit), h.hour_start_ms + 3_600_000,
                               metric=f"{species}_hourly_avg_mg_m3")  # fmt: skip
                if rec is not None:
                    out.append(rec)
    return out


def invalid_hour_alerts(
    rules: RuleSet, stack: StackInfo, hours: list[HourlyCems], states: dict[str, AlertState]
) -> list[Record]:
    """Raise on a stack-hour with too few valid minutes; clear on the next valid hour."""
    out: list[Record] = []
    for rule in rules.of_kind("cems_invalid_hour"):
        st = states.setdefault(f"{rule.id}|{stack.stack}", {})
        for h in sorted(hours, key=lambda h: h.hour_start_ms):
            if h.substitution not in (None, "provisional"):
                continue  # a re-sent substitute of an hour already evaluated
            end = h.hour_start_ms + 3_600_000
            rec = (
                event(rule, st, stack.stack, float(h.n_valid), end, metric="valid_minutes")
                if not h.valid
                else quiet(rule, st, stack.stack, end, metric="valid_minutes")
            )
            if rec is not None:
                out.append(rec)
    return out


def anomaly_alerts(
    rules: RuleSet, anomalies: list[Anomaly], batch: dict[str, Any], states: dict[str, AlertState]
) -> list[Record]:
    """Counter anomalies raise per point; a point's alert clears once ``clear_after`` of event
    time passed without another."""
    out: list[Record] = []
    latest = max((int(r["ts"]) for r in batch["readings"]), default=None)
    for rule in rules.of_kind("counter_anomaly"):
        for a in anomalies:
            if a.kind == "unknown_point":
                continue
            st = states.setdefault(f"{rule.id}|{a.point}", {})
            rec = event(rule, st, a.point, a.value, a.ts_ms, metric=f"counter_{a.kind}")
            if rec is not None:
                out.append(rec)
        if latest is None:
            continue
        for key in sorted(k for k in states if k.startswith(f"{rule.id}|")):
            point = key.split("|", 1)[1]
            rec = quiet(rule, states[key], point, latest, metric="counter_anomaly")
            if rec is not None:
                out.append(rec)
            if not states[key]:
                del states[key]
    return out
