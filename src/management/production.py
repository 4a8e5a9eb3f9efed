"""Production output and output value of a period: recorded figures from the management inputs
take precedence; otherwise the park model's yearly output, pro rata to the days of the period
(``quantity_per_year × days / days_in_year``). Every figure says which of the two it is."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.park.models import Output, Park
from management.inputs import ManagementInputs, OutputRecord
from management.periods import Period, days_in_year, parse_period
from nengtan.errors import ConfigError


@dataclass(frozen=True, slots=True)
class OutputFigure:
    """Output of one product in one period, and where it comes from."""

    enterprise: str
    product: str
    uom: str
    quantity: float
    value_1e4_cny: float | None
    basis: str
    """``recorded``, ``planned`` or ``park_prorated``."""


def park_output(park: Park, enterprise: str, product: str) -> Output:
    ent = park.index.enterprises.get(enterprise)
    if ent is None:
        raise ConfigError(f"unknown enterprise {enterprise!r}")
    for o in ent.output:
        if o.product == product:
            return o
    raise ConfigError(f"enterprise {enterprise!r} has no output {product!r}")


def _prorated(o: Output, period: Period) -> tuple[float, float | None]:
    share = sum(m.days / days_in_year(m.year) for m in period.months())
    value = None if o.value_1e4_cny_per_year is None else o.value_1e4_cny_per_year * share
    return o.quantity_per_year * share, value


def _records(records: list[OutputRecord], enterprise: str, product: str,
             period: Period) -> list[OutputRecord] | None:  # fmt: skip
    """The records covering the period exactly (the period's own, or all its months)."""
    mine = {r.period: r for r in records if r.enterprise == enterprise and r.product == product}
    if period.label in mine:
        return [mine[period.label]]
    months = [m.label for m in period.months()]
    if len(months) > 1 and all(m in mine for m in months):
        return [mine[m] for m in months]
    return None


def output(park: Park, inputs: ManagementInputs, enterprise: str, product: str,
           period: Period | str, *, planned: bool = False) -> OutputFigure:  # fmt: skip
    """Recorded (or, with ``planned``, planned) output of the period, else the park's pro rata."""
    p = parse_period(period) if isinstance(period, str) else period
    o = park_output(park, enterprise, product)
    recs = _records(inputs.plans if planned else inputs.production, enterprise, product, p)
    fallback_q, fallback_v = _prorated(o, p)
    if recs is not None:
        values = [r.value_1e4_cny for r in recs]
        value = sum(v for v in values if v is not None) if all(
            v is not None for v in values) else fallback_v
        return OutputFigure(enterprise, product, o.uom, sum(r.quantity for r in recs), value,
                            "planned" if planned else "recorded")
    return OutputFigure(enterprise, product, o.uom, fallback_q, fallback_v, "park_prorated")


def enterprise_value(park: Park, inputs: ManagementInputs, enterprise: str,
                     period: Period | str) -> float | None:  # fmt: skip
    """Output value (10⁴ CNY) of all the enterprise's products in the period."""
    ent = park.index.enterprises[enterprise]
    values = [output(park, inputs, enterprise, o.product, period).value_1e4_cny
              for o in ent.output]
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)
