"""Budget-overrun and compliance-gap findings become raised/cleared alerts once each."""

from __future__ import annotations

from datetime import date

from management import alerts
from management.evaluate import findings


def test_findings_and_transitions(model, inputs, metered_until) -> None:
    as_of = date(2026, 1, 20)
    found = {f.key: f for f in findings(model, inputs, metered_until(as_of), as_of)}
    # acme: forecast 3 912.29 > 3 900 tce; sunrise: 772.9 > 500 t; hengli 2026: gap > 0
    assert found["mgmt.budget_forecast:acme-2026-01-energy"].breach
    assert found["mgmt.budget_forecast:sunrise-2026-01-co2"].breach
    assert not found["mgmt.budget_forecast:hengli-2026-01-energy"].breach
    assert found["mgmt.compliance_gap:hengli:2026"].breach
    ts = alerts.end_of_day_ms(as_of)
    assert ts == 1_768_953_600_000  # 2026-01-21T00:00:00Z
    records, active = alerts.transitions(list(found.values()), {}, ts)
    raised = {a.rule_id + "/" + ent: a for ent, a in records}
    assert set(raised) == {"mgmt.budget_forecast/acme", "mgmt.budget_forecast/sunrise",
                           "mgmt.compliance_gap/hengli"}
    a = raised["mgmt.budget_forecast/acme"]
    assert (a.state, a.scope, a.window, a.threshold) == ("raised", "enterprise:acme",
                                                        "2026-01", 3900)
    assert a.alert_id == f"mgmt.budget_forecast:acme-2026-01-energy:{ts}"
    # the same findings again: nothing new
    again, same = alerts.transitions(list(found.values()), active, ts + 1)
    assert again == [] and same == active
    # month closed with the re-allocation: acme's budget clears with the same alert id
    end = date(2026, 1, 31)
    later = findings(model, inputs, metered_until(end), end)
    cleared, after = alerts.transitions(later, active, alerts.end_of_day_ms(end))
    assert [(e, x.state, x.alert_id) for e, x in cleared] == [("acme", "cleared", a.alert_id)]
    assert "mgmt.budget_forecast:acme-2026-01-energy" not in after
