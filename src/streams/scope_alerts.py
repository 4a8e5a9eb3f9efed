"""Rolling aggregates and alert rules of a whole scope (an enterprise, or the park), fed by
minute emission records and "device seen" facts, evaluated minute by minute on event time.

Evaluation waits ``LATENESS_MS`` behind the newest data of the scope, so the minutes of the
scope's slower devices are in before a window is judged; each minute is judged once, in input
order, so replays and restarts send the same alerts.
"""

from __future__ import annotations

from typing import Any

from streams.alerts import AlertState, evaluate
from streams.rolling import book, sums, year_fraction
from streams.rules import RuleSet
from streams.windows import MINUTE_MS, window_start

LATENESS_MS = 2 * MINUTE_MS
MAX_STEPS = 24 * 60
"""At most this many minutes are judged per update (after a long silence, the latest day)."""

ScopeState = dict[str, Any]
Record = dict[str, Any]


def on_emission(state: ScopeState, rec: Record, tz_ms: int) -> None:
    """Book a calculated emission record (measured CEMS hours are a cross-check, not added)."""
    if rec.get("method") != "calculated":
        return
    book(state.setdefault("r", {}), str(rec["source"]), int(rec["start_ms"]), float(rec["co2e_t"]),
         tz_ms, int(rec["end_ms"]))  # fmt: skip
    _watermark(state, int(rec["end_ms"]))


def on_seen(state: ScopeState, device: str, ts_ms: int) -> None:
    """A device of the scope sent data up to ``ts_ms``."""
    seen: dict[str, int] = state.setdefault("s", {})
    seen[device] = max(int(seen.get(device, ts_ms)), ts_ms)
    _watermark(state, ts_ms)


def _watermark(state: ScopeState, ts_ms: int) -> None:
    state["wm"] = max(int(state.get("wm", ts_ms)), ts_ms)


def advance(rules: RuleSet, state: ScopeState, scope: str, scope_id: str) -> list[Record]:
    """Judge every minute that became final; returns the alert records."""
    if "wm" not in state:
        return []
    until = window_start(int(state["wm"]) - LATENESS_MS, MINUTE_MS)
    last = int(state.get("ev", until - MINUTE_MS))
    first = max(last + MINUTE_MS, until - (MAX_STEPS - 1) * MINUTE_MS)
    alerts: dict[str, AlertState] = state.setdefault("a", {})
    out: list[Record] = []
    tz = rules.timezone_offset_ms
    for end in range(first, until + 1, MINUTE_MS):
        totals = sums(state.get("r", {}), end, tz)
        for rule in rules.rules:
            if rule.scope != scope:
                continue
            st = alerts.setdefault(rule.id, {})
            rec: Record | None = None
            if rule.kind == "co2e_window":
                value = totals["last_24h"] if rule.window_ms > 3_600_000 else totals["last_hour"]
                rec = evaluate(rule, st, scope_id, value, rule.thresholds(scope_id), end,
                               metric=f"co2e_t_{rule.window}")  # fmt: skip
            elif rule.kind == "ytd_pace" and scope_id in rule.budgets_t:
                pace = rule.budgets_t[scope_id] * year_fraction(end, tz)
                ratio = totals["ytd"] / pace if pace > 0 else 0.0
                rec = evaluate(rule, st, scope_id, ratio, rule.thresholds(scope_id), end,
                               metric="co2e_ytd_to_budget_pace")  # fmt: skip
            elif rule.kind == "meter_silent":
                out.extend(_silent(rule, alerts, state.get("s", {}), end))
            if rec is not None:
                out.append(rec)
    if until >= first:
        state["ev"] = until
        state["last"] = sums(state.get("r", {}), until, tz)
    return out


def _silent(
    rule: Any, alerts: dict[str, AlertState], seen: dict[str, int], end: int
) -> list[Record]:
    out: list[Record] = []
    for device, ts in sorted(seen.items()):
        st = alerts.setdefault(f"{rule.id}|{device}", {})
        silent_min = max(0.0, (end - int(ts)) / MINUTE_MS)
        rec = evaluate(rule, st, device, silent_min, rule.thresholds(device), end,
                       metric="minutes_without_data")  # fmt: skip
        if rec is not None:
            out.append(rec)
    return out
