"""Golden carbon-asset figures: estimated allowances, holdings, compliance gap, valuation."""

from __future__ import annotations

from datetime import date

import pytest

from management import assets
from management.inputs import Prices


def test_allowance_estimate_benchmark_times_output(model, inputs) -> None:
    est = assets.estimate_allowances(model, inputs, inputs.allocations[0])
    # 0.095 tCO2/t × 800 000 t (park output for the whole year 2026) × 1.0 = 76 000 t
    assert est.basis == "estimated"
    assert est.quantity_t == pytest.approx(76_000, rel=1e-12)
    assert est.output is not None and est.output.basis == "park_prorated"


def test_compliance_gap_and_valuation_golden(model, inputs, metered) -> None:
    c = assets.compliance(model, inputs, metered, "hengli", "2026", date(2026, 1, 31))
    h = c.holdings
    # allowances: 76 000 estimated + 2 000 bought = 78 000; CCER 1 000 bought
    assert h.allowances_t == pytest.approx(78_000, rel=1e-12)
    assert h.ccer_t == 1000
    # trades: −1 000 × 60 − 2 000 × 90 = −240 000 CNY
    assert h.cash_cny == -240_000
    # hengli January CO2e:
    #   grid 3 720 000 kWh × 0.0005306 = 1 973.832; export −18 600 × 0.0005306 = −9.86916
    #   COG 5 580 000 Nm3 × 0.000886380587 = 4 946.003680; steam 4 650 t × 0.4145853096
    #   = 1 927.821690; PV 0 -> 8 837.788207 t
    assert c.emissions_to_date_t == pytest.approx(8837.788207, abs=1e-6)
    # no history: run rate with output pro rata, so the year's forecast = 8 837.788207 × 365/31
    #   = 104 057.8289 t
    assert c.obligation_forecast_t == pytest.approx(8837.788207332 * 365 / 31, rel=1e-10)
    # CCER usable = min(1 000, 5 % × 104 057.83 = 5 202.89) = 1 000
    assert c.ccer_cap_t == pytest.approx(0.05 * c.obligation_forecast_t, rel=1e-12)
    assert c.ccer_usable_t == 1000
    # gap = 104 057.8289 − 78 000 − 1 000 = 25 057.8289 t
    assert c.gap_t == pytest.approx(25_057.8289, abs=1e-4)
    assert c.short
    # value at 95 / 80 CNY: 78 000 × 95 + 1 000 × 80 = 7 490 000 CNY
    assert c.value_cny == pytest.approx(7_490_000, rel=1e-12)
    assert c.gap_cost_cny == pytest.approx(25_057.8289 * 95, abs=0.01)


def test_configurable_price_and_surrender(model, inputs, metered) -> None:
    from management.inputs import LedgerEntry

    extra = inputs.model_copy(update={"ledger": [*inputs.ledger, LedgerEntry(
        id="l-003", enterprise="hengli", compliance_period="2026", day=date(2026, 1, 30),
        kind="ccer_surrender", quantity_t=400)]})
    c = assets.compliance(model, extra, metered, "hengli", "2026", date(2026, 1, 31),
                          Prices(allowance_cny_per_t=100, ccer_cny_per_t=50))
    # CCER held 600, surrendered 400: usable still min(1 000, cap) = 1 000; value 78 000 × 100
    # + 600 × 50 = 7 830 000
    assert c.holdings.ccer_t == 600
    assert c.ccer_usable_t == 1000
    assert c.value_cny == pytest.approx(7_830_000, rel=1e-12)


def test_entered_allocation_and_ledger_precedence(model, inputs, metered) -> None:
    from management.inputs import Allocation, LedgerEntry

    entered = inputs.model_copy(update={"allocations": [Allocation(
        enterprise="hengli", compliance_period="2026", quantity_t=90_000)]})
    h = assets.holdings(model, entered, "hengli", "2026")
    assert (h.allocated_t, h.allocation_basis) == (90_000, "entered")
    issued = entered.model_copy(update={"ledger": [*entered.ledger, LedgerEntry(
        id="l-9", enterprise="hengli", compliance_period="2026", day=date(2026, 3, 1),
        kind="allocation", quantity_t=88_000)]})
    h = assets.holdings(model, issued, "hengli", "2026")
    assert (h.allocated_t, h.allocation_basis) == (88_000, "ledger")
    # before the issue date the ledger has no allocation yet: the entered figure stands
    assert assets.holdings(model, issued, "hengli", "2026", date(2026, 2, 1)).allocated_t == 90_000


def test_next_period_estimate_uses_the_plan(model, inputs) -> None:
    from management.inputs import OutputRecord

    planned = inputs.model_copy(update={"plans": [*inputs.plans, OutputRecord(
        enterprise="hengli", product="hot-rolled steel", period="2026", quantity=780_000)]})
    est = assets.estimate_allowances(model, planned, planned.allocations[0])
    # 0.095 tCO2/t × 780 000 t planned = 74 100 t
    assert est.quantity_t == pytest.approx(74_100, rel=1e-12)
    assert est.output is not None and est.output.basis == "planned"
