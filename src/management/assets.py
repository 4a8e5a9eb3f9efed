"""The carbon-asset ledger: allowances per compliance period, CCER holdings, surrenders and
trades; the compliance-gap forecast and valuation at a configurable price.

Quantities are tCO₂ (one allowance or one CCER each). For a compliance period P:

    allocated      Σ ledger ``allocation`` entries of P; without any, the estimate of the
                   ``allocations`` input: entered ``quantity_t``, or benchmark × output × correction
                   (output: recorded for P, else planned, else the park's pro rata)
    allowances     allocated + bought − sold − surrendered                  (balance held)
    CCER           Σ ccer_buy − ccer_sell − ccer_surrender over all periods (balance held)
    obligation     the period's forecast emissions of the enterprise (scope 1 + 2, the budget
                   forecast method applied to tCO₂e)
    CCER usable    min(CCER held + CCER surrendered for P, cap × obligation) with the cap of
                   ``carbon_market.yaml`` (5 %)
    gap            obligation − (allowances held + allowances surrendered for P + CCER usable)
    value          allowances × allowance price + CCER × CCER price

A positive gap (allowances to buy) raises the ``mgmt.compliance_gap`` alert.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from management import budget as budgets
from management.inputs import Allocation, Budget, LedgerEntry, ManagementInputs, Prices
from management.metered import EnergyModel, Metered
from management.periods import parse_period
from management.production import OutputFigure, output
from management.reference import allocation_benchmarks, market_rule
from nengtan.errors import ConfigError

CCER_CAP_RULE = "ccer_offset_cap.national"


@dataclass(frozen=True, slots=True)
class AllowanceEstimate:
    """Allowances of a period: entered, or estimated as benchmark × output × correction."""

    enterprise: str
    compliance_period: str
    quantity_t: float
    basis: str
    """``ledger`` (issued and recorded), ``entered`` or ``estimated``."""
    benchmark_t_per_unit: float | None = None
    benchmark_id: str | None = None
    benchmark_source: str | None = None
    output: OutputFigure | None = None
    correction: float = 1.0


def estimate_allowances(model: EnergyModel, inputs: ManagementInputs,
                        a: Allocation) -> AllowanceEstimate:  # fmt: skip
    """The allowances an ``allocations`` entry stands for."""
    if a.quantity_t is not None:
        return AllowanceEstimate(a.enterprise, a.compliance_period, a.quantity_t, "entered")
    if a.benchmark_id is not None:
        known = allocation_benchmarks()
        if a.benchmark_id not in known:
            raise ConfigError(f"allocation of {a.enterprise} {a.compliance_period}: unknown "
                              f"benchmark {a.benchmark_id!r}; known: {', '.join(known)}")
        fig = known[a.benchmark_id]
        value = fig.value
        bid_out: str | None = fig.id
        src: str | None = fig.provenance.source
    elif a.benchmark_t_per_unit is not None:
        value, bid_out, src = a.benchmark_t_per_unit, None, a.benchmark_source
    else:
        raise ConfigError(f"allocation of {a.enterprise} {a.compliance_period}: give "
                          "quantity_t, benchmark_id or benchmark_t_per_unit")
    product = a.product or model.park.index.enterprises[a.enterprise].output[0].product
    # recorded output when the period is over, else the production plan, else the park's
    out = output(model.park, inputs, a.enterprise, product, a.compliance_period)
    if out.basis == "park_prorated":
        out = output(model.park, inputs, a.enterprise, product, a.compliance_period,
                     planned=True)
    return AllowanceEstimate(a.enterprise, a.compliance_period,
                             value * out.quantity * a.correction, "estimated", value, bid_out, src,
                             out, a.correction)


@dataclass(frozen=True, slots=True)
class Holdings:
    """Ledger balances of an enterprise for one compliance period, up to a day."""

    enterprise: str
    compliance_period: str
    allocated_t: float
    allocation_basis: str
    bought_t: float
    sold_t: float
    surrendered_t: float
    allowances_t: float
    ccer_t: float
    ccer_surrendered_t: float
    cash_cny: float
    """Σ sale proceeds − Σ purchase costs of the period's trades (priced entries only)."""


def holdings(model: EnergyModel, inputs: ManagementInputs, enterprise: str,
             compliance_period: str, until: date | None = None) -> Holdings:  # fmt: skip
    entries = [e for e in inputs.ledger
               if e.enterprise == enterprise and (until is None or e.day <= until)]
    mine = [e for e in entries if e.compliance_period == compliance_period]

    def total(kind: str, rows: list[LedgerEntry] = mine) -> float:
        return float(sum(e.quantity_t for e in rows if e.kind == kind))

    allocated, basis = total("allocation"), "ledger"
    if not any(e.kind == "allocation" for e in mine):
        est = [estimate_allowances(model, inputs, a) for a in inputs.allocations
               if a.enterprise == enterprise and a.compliance_period == compliance_period]
        allocated = sum(x.quantity_t for x in est)
        basis = est[0].basis if est else "none"
    bought, sold, surr = total("allowance_buy"), total("allowance_sell"), \
        total("allowance_surrender")
    ccer = total("ccer_buy", entries) - total("ccer_sell", entries) \
        - total("ccer_surrender", entries)
    cash = sum((e.price_cny_per_t or 0.0) * e.quantity_t * (1 if e.kind.endswith("sell") else -1)
               for e in mine if e.kind.endswith(("buy", "sell")))
    return Holdings(enterprise, compliance_period, allocated, basis, bought, sold, surr,
                    allocated + bought - sold - surr, ccer, total("ccer_surrender"), cash)


@dataclass(frozen=True, slots=True)
class Compliance:
    """The compliance position of an enterprise for a period, as of a day."""

    holdings: Holdings
    as_of: date
    emissions_to_date_t: float
    obligation_forecast_t: float
    ccer_cap_t: float
    ccer_usable_t: float
    gap_t: float
    allowance_price_cny_per_t: float | None
    ccer_price_cny_per_t: float | None
    value_cny: float | None
    gap_cost_cny: float | None

    @property
    def short(self) -> bool:
        return self.gap_t > 0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        d["short"] = self.short
        return d


def compliance(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
               enterprise: str, compliance_period: str, as_of: date,
               prices: Prices | None = None) -> Compliance:  # fmt: skip
    """Forecast obligation, coverage, gap and valuation (prices default to the inputs')."""
    parse_period(compliance_period)
    h = holdings(model, inputs, enterprise, compliance_period, as_of)
    probe = Budget(id=f"obligation:{enterprise}:{compliance_period}", scope=enterprise,
                   period=compliance_period, metric="co2e_t", amount=1.0)
    st = budgets.status(model, inputs, metered, probe, as_of)
    cap_share = market_rule(CCER_CAP_RULE).value
    cap = cap_share * st.forecast
    usable = min(h.ccer_t + h.ccer_surrendered_t, cap)
    gap = st.forecast - (h.allowances_t + h.surrendered_t + usable)
    prices = prices or inputs.prices
    value = cost = None
    if prices is not None:
        value = h.allowances_t * prices.allowance_cny_per_t + h.ccer_t * prices.ccer_cny_per_t
        cost = max(gap, 0.0) * prices.allowance_cny_per_t
    return Compliance(h, as_of, st.actual_to_date, st.forecast, cap, usable, gap,
                      prices.allowance_cny_per_t if prices else None,
                      prices.ccer_cny_per_t if prices else None, value, cost)
