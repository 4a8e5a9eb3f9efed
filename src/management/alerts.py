"""Management alerts: a budget-overrun forecast and a compliance-gap forecast, as
``ingest.contract.Alert`` records on ``nt.alerts.v1`` (keyed by enterprise), which the console's
delivery sends to the matching subscriptions.

A finding is a breach or not; ``transitions`` turns findings into ``raised``/``cleared``
records against the set of active alerts, so evaluating again (every hour, after a restart)
sends nothing new. The alert id is ``{rule}:{subject}:{ts when first raised}`` — a budget that
goes over, back under and over again raises a new alert — and ``scope`` is
``enterprise:{id}`` so subscriptions filter by enterprise as they do for stream alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ingest.contract import Alert
from management.assets import Compliance
from management.budget import BudgetStatus

RULE_BUDGET = "mgmt.budget_forecast"
RULE_COMPLIANCE = "mgmt.compliance_gap"
SEVERITY = {RULE_BUDGET: "warning", RULE_COMPLIANCE: "major"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One evaluated condition: ``key`` names it across evaluations."""

    rule_id: str
    subject: str
    enterprise: str
    breach: bool
    metric: str
    value: float
    threshold: float
    window: str

    @property
    def key(self) -> str:
        return f"{self.rule_id}:{self.subject}"


def end_of_day_ms(day: date) -> int:
    """The instant a day's data is complete (next midnight UTC), epoch ms."""
    return int(datetime.combine(day + timedelta(days=1), time(), UTC).timestamp() * 1000)


def budget_finding(st: BudgetStatus, enterprise: str) -> Finding:
    """Breach: the end-of-period forecast exceeds the effective budget."""
    return Finding(RULE_BUDGET, st.budget_id, enterprise, st.over,
                   f"forecast_{st.metric}", st.forecast, st.effective, st.period)


def compliance_finding(c: Compliance) -> Finding:
    """Breach: forecast obligation exceeds allowances + usable CCER (the gap is positive)."""
    h = c.holdings
    covered = c.obligation_forecast_t - c.gap_t
    return Finding(RULE_COMPLIANCE, f"{h.enterprise}:{h.compliance_period}", h.enterprise,
                   c.short, "forecast_obligation_co2e_t", c.obligation_forecast_t, covered,
                   h.compliance_period)


def transitions(findings: list[Finding], active: Mapping[str, str],
                ts_ms: int) -> tuple[list[tuple[str, Alert]], dict[str, str]]:  # fmt: skip
    """(enterprise, alert) records to publish and the new active map (finding key -> alert id).
    Keys not among the findings keep their state."""
    now = dict(active)
    out: list[tuple[str, Alert]] = []
    for f in findings:
        current = now.get(f.key)
        if f.breach and current is None:
            alert_id = f"{f.key}:{ts_ms}"
            now[f.key] = alert_id
            state = "raised"
        elif not f.breach and current is not None:
            alert_id = current
            del now[f.key]
            state = "cleared"
        else:
            continue
        out.append((f.enterprise, Alert(
            alert_id=alert_id, rule_id=f.rule_id, state=state, severity=SEVERITY[f.rule_id],
            scope=f"enterprise:{f.enterprise}", metric=f.metric, value=f.value,
            threshold=f.threshold, window=f.window, ts=ts_ms)))
    return out, now
