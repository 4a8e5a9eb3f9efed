"""Energy and carbon budgets: actual against budget, the end-of-period forecast, re-allocations.

Effective budget = amount + re-allocations in − re-allocations out (each one recorded with its
date and reason). The forecast is computed month by month over the budget period, as of a day
(data through the end of that UTC day):

    closed month      forecast_m = actual_m
    open month        forecast_m = actual_m,to-date + I_m × P_m,plan × (remaining days / days_m)
    future month      forecast_m = I_m × P_m,plan

where P_m,plan is the planned output of the month (the park's pro rata output without a plan) and
I_m the seasonal intensity: the same month of the previous year, E_m,y−1 ÷ P_m,y−1 (its metered
energy or emissions over its recorded output). Without history for that month, the run rate of
the budget period so far is used (Σ actual to date ÷ Σ planned output to date, each month's plan
pro rata to its elapsed days). The forecast exceeding the
effective budget raises the ``mgmt.budget_forecast`` alert.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from management.inputs import Budget, ManagementInputs
from management.metered import EnergyModel, Metered, has_data
from management.periods import Period, parse_period
from management.production import output
from nengtan.errors import ConfigError


@dataclass(frozen=True, slots=True)
class MonthForecast:
    period: str
    actual_to_date: float
    remaining_days: int
    planned_output: float
    intensity: float | None
    intensity_basis: str
    forecast: float


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget as of a day."""

    budget_id: str
    scope: str
    period: str
    metric: str
    amount: float
    reallocated_in: float
    reallocated_out: float
    effective: float
    as_of: date
    actual_to_date: float
    forecast: float
    months: tuple[MonthForecast, ...] = field(default=())

    @property
    def utilisation(self) -> float:
        return self.actual_to_date / self.effective

    @property
    def overrun(self) -> float:
        """Forecast minus effective budget (positive: the budget will be exceeded)."""
        return self.forecast - self.effective

    @property
    def over(self) -> bool:
        return self.forecast > self.effective

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        d.update(utilisation=self.utilisation, overrun=self.overrun, over=self.over)
        return d


def effective(inputs: ManagementInputs, budget: Budget,
              until: date | None = None) -> tuple[float, float, float]:  # fmt: skip
    """(effective amount, moved in, moved out) counting re-allocations up to ``until``."""
    moved_in = sum(r.amount for r in inputs.reallocations
                   if r.to_budget == budget.id and (until is None or r.day <= until))
    moved_out = sum(r.amount for r in inputs.reallocations
                    if r.from_budget == budget.id and (until is None or r.day <= until))
    return budget.amount + moved_in - moved_out, moved_in, moved_out


def driving_product(model: EnergyModel, inputs: ManagementInputs, budget: Budget) -> str:
    """The output that drives a budget's forecast."""
    if budget.product:
        return budget.product
    ent = model.enterprise_of(budget.scope)
    unit = None if budget.scope == ent else budget.scope
    for link in inputs.products:
        if link.enterprise == ent and link.unit == unit:
            return link.product
    outputs = model.park.index.enterprises[ent].output
    if not outputs:
        raise ConfigError(f"budget {budget.id!r}: enterprise {ent!r} has no output to forecast by")
    return outputs[0].product


def _elapsed(m: Period, as_of: date) -> int:
    return 0 if as_of < m.first else min(m.days, (as_of - m.first).days + 1)


def _run_rate(model: EnergyModel, inputs: ManagementInputs, metered: Metered, budget: Budget,
              product: str, months: list[Period], as_of: date) -> float | None:  # fmt: skip
    """Σ actual to date ÷ Σ planned output to date over the elapsed part of the period."""
    ent = model.enterprise_of(budget.scope)
    actual = planned = 0.0
    for m in months:
        n = _elapsed(m, as_of)
        if n:
            last = m.last if n == m.days else as_of
            actual += model.energy(budget.scope, metered, m.first, last).metric(budget.metric)
            planned += output(model.park, inputs, ent, product, m, planned=True).quantity \
                * n / m.days
    return actual / planned if planned > 0 else None


def _month(model: EnergyModel, inputs: ManagementInputs, metered: Metered, budget: Budget,
           product: str, m: Period, as_of: date,
           run_rate: float | None) -> MonthForecast:  # fmt: skip
    ent = model.enterprise_of(budget.scope)
    if as_of >= m.last:
        actual = model.energy(budget.scope, metered, m.first, m.last).metric(budget.metric)
        return MonthForecast(m.label, actual, 0, 0.0, None, "actual", actual)
    elapsed = _elapsed(m, as_of)
    actual = (model.energy(budget.scope, metered, m.first, as_of).metric(budget.metric)
              if elapsed else 0.0)
    plan = output(model.park, inputs, ent, product, m, planned=True).quantity
    remaining = m.days - elapsed
    hist = m.shifted_years(-1)
    intensity: float | None = None
    basis = "none"
    if has_data(metered, model.points_of(budget.scope), hist.first, hist.last):
        h_out = output(model.park, inputs, ent, product, hist).quantity
        if h_out > 0:
            h = model.energy(budget.scope, metered, hist.first, hist.last).metric(budget.metric)
            intensity, basis = h / h_out, f"history {hist.label}"
    if intensity is None and run_rate is not None:
        intensity, basis = run_rate, "run_rate"
    if intensity is None:
        raise ConfigError(f"budget {budget.id!r}: month {m.label}: no history and no data yet "
                          "to forecast from")
    forecast = actual + intensity * plan * remaining / m.days
    return MonthForecast(m.label, actual, remaining, plan, intensity, basis, forecast)


def status(model: EnergyModel, inputs: ManagementInputs, metered: Metered, budget: Budget,
           as_of: date) -> BudgetStatus:  # fmt: skip
    """Actual to date, forecast and effective budget as of the end of day ``as_of``."""
    period = parse_period(budget.period)
    product = driving_product(model, inputs, budget)
    periods = period.months()
    rate = _run_rate(model, inputs, metered, budget, product, periods, as_of)
    months = tuple(_month(model, inputs, metered, budget, product, m, as_of, rate)
                   for m in periods)
    eff, moved_in, moved_out = effective(inputs, budget, as_of)
    return BudgetStatus(budget.id, budget.scope, budget.period, budget.metric, budget.amount,
                        moved_in, moved_out, eff, as_of,
                        sum(m.actual_to_date for m in months), sum(m.forecast for m in months),
                        months)


def all_status(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
               as_of: date) -> list[BudgetStatus]:  # fmt: skip
    """Every budget whose period has begun by ``as_of``."""
    return [status(model, inputs, metered, b, as_of) for b in inputs.budgets
            if parse_period(b.period).first <= as_of]
