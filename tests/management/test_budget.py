"""Golden budget figures: actual to date, forecast, effective budget after re-allocation."""

from __future__ import annotations

from datetime import date

import pytest

from management import budget
from management.inputs import Budget

# acme's daily energy without the diesel delivery:
#   40 000 × 0.1229 + 28 800 × 1.33 + 62 400 × 1.33 + 800 × 0.0857 + 15 000 × 0.04
#   = 4 916 + 38 304 + 82 992 + 68.56 + 600 = 126 880.56 kgce/day
ACME_DAY_KGCE = 126_880.56


def _budget(inputs, bid: str) -> Budget:
    return next(b for b in inputs.budgets if b.id == bid)


def test_forecast_from_seasonal_history_and_plan(model, inputs, metered_until) -> None:
    as_of = date(2026, 1, 20)
    st = budget.status(model, inputs, metered_until(as_of), _budget(inputs, "acme-2026-01-energy"),
                       as_of)
    # actual to date: 20 × 126 880.56 + 3 t diesel × 1 457.1 = 2 537 611.2 + 4 371.3 kgce
    #   = 2 541.9825 tce
    assert st.actual_to_date == pytest.approx(2541.9825, rel=1e-12)
    # history Jan 2025: 0.9 × 126 880.56 × 31 = 3 539 967.624 kgce over 3 300 t recorded
    #   -> I = 3 539.967624 / 3 300 = 1.0727174618 tce/t
    # plan Jan 2026: 3 600 t; 11 of 31 days remain -> 3 600 × 11/31 = 1 277.4194 t
    # forecast = 2 541.9825 + 1.0727174618 × 1 277.4194 = 2 541.9825 + 1 370.3100 = 3 912.2925
    month = st.months[0]
    assert month.intensity_basis == "history 2025-01"
    assert month.intensity == pytest.approx(3539.967624 / 3300, rel=1e-12)
    assert month.remaining_days == 11
    assert st.forecast == pytest.approx(2541.9825 + 3539.967624 / 3300 * 3600 * 11 / 31,
                                        rel=1e-12)
    assert st.forecast == pytest.approx(3912.2925, abs=1e-4)
    # the re-allocation of +50 tce is dated 2026-01-25: not yet in force on the 20th
    assert st.effective == 3900
    assert st.over and st.overrun == pytest.approx(12.2925, abs=1e-4)
    assert st.utilisation == pytest.approx(2541.9825 / 3900, rel=1e-12)


def test_closed_month_with_reallocation(model, inputs, metered) -> None:
    st = budget.status(model, inputs, metered, _budget(inputs, "acme-2026-01-energy"),
                       date(2026, 1, 31))
    # closed month: forecast = actual = 3 937.66866 tce; effective 3 900 + 50 = 3 950
    assert st.forecast == st.actual_to_date == pytest.approx(3937.66866, rel=1e-12)
    assert (st.effective, st.reallocated_in) == (3950, 50)
    assert not st.over
    donor = budget.status(model, inputs, metered, _budget(inputs, "hengli-2026-01-energy"),
                          date(2026, 1, 31))
    assert (donor.effective, donor.reallocated_out) == (4350, 50)


def test_run_rate_without_history(model, inputs, metered_until) -> None:
    as_of = date(2026, 1, 20)
    st = budget.status(model, inputs, metered_until(as_of),
                       _budget(inputs, "sunrise-2026-01-co2"), as_of)
    # no history for sunrise: the run rate; output pro rata, so the forecast is the daily
    # emissions × 31: 772.9001226613 t (the whole month at the same daily rates)
    assert st.months[0].intensity_basis == "run_rate"
    assert st.forecast == pytest.approx(st.actual_to_date * 31 / 20, rel=1e-12)
    assert st.forecast == pytest.approx(772.90012266, rel=1e-10)
    assert st.over  # 772.9 t against a 500 t budget


def test_carbon_metric_uses_engine_factors(model, inputs, metered) -> None:
    e = model.energy("sunrise", metered, date(2026, 1, 1), date(2026, 1, 31))
    # sunrise CO2e: electricity 306 900 kWh × 0.0005306 = 162.84114
    #   + steam 1 240 t × 0.4145853096 = 514.0857839 + diesel 31 000 kg × 0.0030959096373
    #   = 95.9731988 -> 772.9001227 t
    assert e.co2e_t == pytest.approx(162.84114 + 514.0857839 + 95.9731988, abs=1e-6)
