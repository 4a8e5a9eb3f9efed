"""One evaluation of the management alerts: every started budget and every compliance period
with allowances or ledger entries, as of a day; state changes are published on
``nt.alerts.v1`` and only then saved as the new alert state (a crash re-sends, never loses)."""

from __future__ import annotations

from datetime import date

from ingest.contract import Alert
from management import alerts, assets, budget, db
from management.inputs import ManagementInputs
from management.metered import EnergyModel, Metered
from management.periods import parse_period


def findings(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
             as_of: date) -> list[alerts.Finding]:  # fmt: skip
    out = []
    for st in budget.all_status(model, inputs, metered, as_of):
        out.append(alerts.budget_finding(st, model.enterprise_of(st.scope)))
    periods = sorted({(a.enterprise, a.compliance_period) for a in inputs.allocations}
                     | {(e.enterprise, e.compliance_period) for e in inputs.ledger})
    for ent, period in periods:
        if parse_period(period).first <= as_of:
            out.append(alerts.compliance_finding(
                assets.compliance(model, inputs, metered, ent, period, as_of)))
    return out


def evaluate(conn: db.Conn, bootstrap: str, model: EnergyModel, inputs: ManagementInputs,
             metered: Metered, as_of: date) -> list[Alert]:  # fmt: skip
    """Evaluate, publish the changes, save the state; returns the published alerts."""
    from management.publish import publish_alerts

    found = findings(model, inputs, metered, as_of)
    before = db.active_alerts(conn)
    ts_ms = alerts.end_of_day_ms(as_of)
    records, after = alerts.transitions(found, before, ts_ms)
    publish_alerts(bootstrap, records)
    db.save_alert_state(conn, before, after,
                        {f.key: f.enterprise for f in found}, ts_ms)
    return [a for _, a in records]
