"""The alert state machine: a value against its thresholds, over event time, with hysteresis,
a minimum duration and deduplication; emits ``raised`` / ``cleared`` records per
``ingest.contract.Alert``.

State per (rule, scope id) is a small JSON-able dict kept by the caller. The alert id is
``{rule}:{scope id}:{ts when the condition began}``, so re-evaluating the same data (a replay,
a restarted worker) yields the same ids and the sink stores each change once.
"""

from __future__ import annotations

from typing import Any

from streams.rules import Rule

AlertState = dict[str, Any]


def evaluate(
    rule: Rule,
    state: AlertState,
    scope_id: str,
    value: float,
    levels: tuple[tuple[str, float], ...],
    ts_ms: int,
    *,
    metric: str,
) -> dict[str, Any] | None:
    """Feed one value observed at ``ts_ms`` (event time, non-decreasing per state);
    returns an alert record when the state changes, else None."""
    if not levels:
        return None
    raise_at = levels[0][1]
    active = state.get("id") is not None
    if not active:
        if value > raise_at:
            since = state.setdefault("since", ts_ms)
            state["peak"] = max(state.get("peak", value), value)
            if ts_ms - since >= rule.min_duration_ms:
                severity = levels[0][0]
                for sev, thr in levels:
                    if state["peak"] > thr:
                        severity = sev
                alert_id = f"{rule.id}:{scope_id}:{since}"
                state.clear()
                state.update(id=alert_id, severity=severity, threshold=raise_at)
                return _record(rule, alert_id, "raised", severity, scope_id, metric, value,
                               raise_at, ts_ms)  # fmt: skip
        else:
            state.pop("since", None)
            state.pop("peak", None)
        return None
    clear_below = state["threshold"] * (1.0 - rule.hysteresis)
    if value < clear_below:
        since = state.setdefault("clear_since", ts_ms)
        if ts_ms - since >= rule.min_duration_ms:
            record = _record(rule, state["id"], "cleared", state["severity"], scope_id, metric,
                             value, state["threshold"], ts_ms)  # fmt: skip
            state.clear()
            return record
    else:
        state.pop("clear_since", None)
    return None


def event(
    rule: Rule, state: AlertState, scope_id: str, value: float, ts_ms: int, *, metric: str
) -> dict[str, Any] | None:
    """An event-type condition (a counter anomaly): raise unless already active, and push the
    clear time forward."""
    state["last"] = max(int(state.get("last", ts_ms)), ts_ms)
    if state.get("id") is not None:
        return None
    alert_id = f"{rule.id}:{scope_id}:{ts_ms}"
    severity = rule.levels[0][0]
    state.update(id=alert_id, severity=severity)
    return _record(rule, alert_id, "raised", severity, scope_id, metric, value, 0.0, ts_ms)


def quiet(
    rule: Rule, state: AlertState, scope_id: str, ts_ms: int, *, metric: str
) -> dict[str, Any] | None:
    """Event time moved to ``ts_ms`` without a new event: clear after ``clear_after``."""
    if state.get("id") is None or ts_ms - int(state["last"]) < rule.clear_after_ms:
        return None
    record = _record(rule, state["id"], "cleared", state["severity"], scope_id, metric, 0.0, 0.0,
                     ts_ms)  # fmt: skip
    state.clear()
    return record


def _record(
    rule: Rule,
    alert_id: str,
    state: str,
    severity: str,
    scope_id: str,
    metric: str,
    value: float,
    threshold: float,
    ts_ms: int,
) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "rule_id": rule.id,
        "state": state,
        "severity": severity,
        "scope": f"{rule.scope}:{scope_id}",
        "metric": metric,
        "value": float(value),
        "threshold": float(threshold),
        "window": rule.window,
        "ts": int(ts_ms),
    }
