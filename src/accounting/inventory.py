"""Enterprise and park inventories: activity data of one or more periods in, totals out.

Enterprise view (GB/T 32151 style): scope 1 combustion and process, scope 2 electricity and
heat, by source, with exported electricity and heat deducted. Park view: the categories of the
park synergy guideline's Appendix B (fuel combustion, industrial processes, transport, purchased
electricity/heat, buildings, waste treatment, CCUS). Every line names the factor it used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accounting import analysis, methods
from accounting.carriers import get_carrier, is_carrier
from accounting.errors import AccountingInputError
from accounting.factors import FactorLibrary, default_library
from accounting.resolve import Overrides, resolve
from accounting.settings import AccountingSettings
from accounting.units import factor

UseName = Literal["fuel", "feedstock", "purchased", "generated", "exported", "process"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amount(_Model):
    """A money amount or similar denominator: ``value`` in ``unit`` (e.g. ``1e4 CNY``)."""

    value: float = Field(ge=0)
    unit: str = Field(min_length=1)


class ProductAmount(_Model):
    """Product output of a period."""

    quantity: float = Field(gt=0)
    uom: str = Field(min_length=1)


class Activity(_Model):
    """One activity-data entry (measured parameters override library defaults)."""

    carrier: str = Field(min_length=1, description="carrier id, or a process material / gas")
    quantity: float = Field(ge=0, description="amount in uom; exports are given positive")
    uom: str = Field(min_length=1)
    use: UseName
    source: str | None = Field(None, description="emission source / equipment name")
    category: str | None = Field(None, description="park category, e.g. transport")
    region: str | None = Field(None, description="province or grid region, if not the file's")
    ncv: float | None = Field(None, gt=0, description="GJ per activity unit")
    cc: float | None = Field(None, ge=0, description="tC/GJ")
    of: float | None = Field(None, gt=0, le=1, description="oxidation rate, fraction")
    ef: float | None = Field(None, description="tCO2 (or tCO2e) per activity unit")
    purity: float | None = Field(None, gt=0, le=1, description="carbonate purity, fraction")
    cao: float | None = Field(None, ge=0, le=1)
    mgo: float | None = Field(None, ge=0, le=1)
    cao_noncarbonate: float | None = Field(None, ge=0, le=1)
    mgo_noncarbonate: float | None = Field(None, ge=0, le=1)
    green_certificates_mwh: float | None = Field(None, ge=0)

    def overrides(self) -> Overrides:
        return Overrides(ncv=self.ncv, cc=self.cc, of=self.of, ef=self.ef, purity=self.purity,
                         cao=self.cao, mgo=self.mgo, cao_noncarbonate=self.cao_noncarbonate,
                         mgo_noncarbonate=self.mgo_noncarbonate)


class Period(_Model):
    """One accounting period (usually a year)."""

    period: str = Field(min_length=1)
    year: int | None = Field(None, description="factor year; default: the period's first 4 digits")
    output_value: Amount
    value_added: Amount | None = None
    products: dict[str, ProductAmount] = Field(default_factory=dict)
    pollutants: dict[str, float] = Field(default_factory=dict, description="t per pollutant")
    activities: list[Activity] = Field(min_length=1)

    @field_validator("period", mode="before")
    @classmethod
    def _period_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("pollutants")
    @classmethod
    def _pollutants_non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for name, t in value.items():
            if t < 0:
                raise ValueError(f"pollutant {name!r} is negative")
        return value

    def factor_year(self) -> int:
        if self.year is not None:
            return self.year
        head = self.period[:4]
        if not head.isdigit():
            raise AccountingInputError(
                f"period {self.period!r}: give 'year' (its first 4 characters are not a year)"
            )
        return int(head)


class Inventory(_Model):
    """An inventory file: an enterprise or a park, its region, settings and periods."""

    name: str | None = None
    kind: Literal["enterprise", "park"] = "enterprise"
    region: str | None = Field(None, description="province or grid region for grid factors")
    settings: AccountingSettings = Field(default_factory=AccountingSettings)
    periods: list[Period] = Field(min_length=1)


@dataclass(frozen=True)
class Line:
    """One accounted activity."""

    source: str | None
    carrier: str
    quantity: float
    uom: str
    use: str
    category: str
    scope: int
    energy_tce: float
    co2e_t: float
    factor_id: str
    kgce_factor_id: str | None
    gases_t: Mapping[str, float]
    group: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"carrier": self.carrier, "quantity": self.quantity, "uom": self.uom,
                "use": self.use, "energy_tce": self.energy_tce, "co2e_t": self.co2e_t,
                "factor_id": self.factor_id, "source": self.source, "category": self.category,
                "scope": self.scope, "kgce_factor_id": self.kgce_factor_id,
                "gases_t": dict(self.gases_t)}


@dataclass(frozen=True)
class PeriodResult:
    """Totals of one period."""

    period: str
    year: int
    lines: tuple[Line, ...]
    output_value: Amount
    value_added: Amount | None
    products: Mapping[str, ProductAmount]
    pollutants: Mapping[str, float]
    notes: tuple[str, ...] = field(default=())

    @property
    def energy_tce(self) -> float:
        """Net energy consumption (exports deducted), tce."""
        return sum(ln.energy_tce for ln in self.lines)

    @property
    def co2e_t(self) -> float:
        """Net emissions (exports deducted, captured CO2 deducted), tCO2e."""
        return sum(ln.co2e_t for ln in self.lines)

    def by_scope(self) -> dict[str, float]:
        return {s: sum(ln.co2e_t for ln in self.lines if str(ln.scope) == s) for s in ("1", "2")}

    def by_category(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for ln in self.lines:
            cat = out.setdefault(ln.category, {"co2e_t": 0.0, "energy_tce": 0.0})
            cat["co2e_t"] += ln.co2e_t
            cat["energy_tce"] += ln.energy_tce
        return out

    def by_source(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for ln in self.lines:
            key = ln.source or ln.carrier
            out[key] = out.get(key, 0.0) + ln.co2e_t
        return out

    def gases_t(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for ln in self.lines:
            for gas, t in ln.gases_t.items():
                out[gas] = out.get(gas, 0.0) + t
        return out

    def energy_structure(self) -> dict[str, float]:
        """Shares of gross energy use by carrier group (exports and deductions left out)."""
        return analysis.energy_structure(
            (ln.group, ln.energy_tce) for ln in self.lines
            if ln.group is not None and ln.use != "exported" and ln.energy_tce > 0
        )

    def intensity(self) -> dict[str, Any]:
        def per(denominator: float, unit: str) -> dict[str, Any]:
            if denominator <= 0:
                return {"unit": unit, "energy_tce_per_unit": None, "co2e_t_per_unit": None}
            return {"unit": unit, "energy_tce_per_unit": self.energy_tce / denominator,
                    "co2e_t_per_unit": self.co2e_t / denominator}

        out: dict[str, Any] = {"output_value": per(self.output_value.value,
                                                   self.output_value.unit)}
        if self.value_added is not None:
            out["value_added"] = per(self.value_added.value, self.value_added.unit)
        out["products"] = {name: per(p.quantity, p.uom) for name, p in self.products.items()}
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "year": self.year, "energy_tce": self.energy_tce,
                "co2e_t": self.co2e_t, "by_scope": self.by_scope(),
                "by_category": self.by_category(), "by_source": self.by_source(),
                "gases_t": self.gases_t(), "energy_structure": self.energy_structure(),
                "intensity": self.intensity(), "notes": list(self.notes),
                "lines": [ln.as_dict() for ln in self.lines]}


def account_activity(
    act: Activity, year: int, region: str | None, settings: AccountingSettings,
    library: FactorLibrary,
) -> tuple[Line, str | None]:
    """Account one activity; returns the line and an optional note for the report."""
    coef = resolve(act.carrier, act.uom, act.use, year=year, region=act.region or region,
                   category=act.category, overrides=act.overrides(), settings=settings,
                   library=library)
    co2e = act.quantity * coef.co2e_t_per_unit
    gases = {g: act.quantity * v for g, v in coef.gases_t_per_unit.items()}
    factor_id, note = coef.factor_id, None
    if act.green_certificates_mwh is not None:
        if act.carrier != "electricity" or act.use != "purchased":
            raise AccountingInputError("green_certificates_mwh applies to purchased electricity")
        if settings.electricity_method == "market":
            mwh_per_unit = factor(act.uom, "MWh")
            mwh = act.quantity * mwh_per_unit
            co2e = methods.market_electricity_co2_t(
                mwh, act.green_certificates_mwh, coef.co2e_t_per_unit / mwh_per_unit
            )
            gases = {"co2": co2e}
            factor_id = f"{coef.factor_id}+green-certificates"
        else:
            note = (f"{act.source or act.carrier}: green certificates "
                    f"({act.green_certificates_mwh} MWh) not used by location-based accounting")
    group = get_carrier(act.carrier).group if is_carrier(act.carrier) else None
    line = Line(
        source=act.source, carrier=act.carrier, quantity=act.quantity, uom=act.uom, use=act.use,
        category=coef.category, scope=coef.scope,
        energy_tce=act.quantity * coef.kgce_per_unit / 1000.0, co2e_t=co2e, factor_id=factor_id,
        kgce_factor_id=coef.kgce_factor_id, gases_t=gases, group=group,
    )
    return line, note


def account_period(
    index: int, period: Period, region: str | None, settings: AccountingSettings,
    library: FactorLibrary,
) -> PeriodResult:
    """Account every activity of a period; errors name ``periods[i] (label).activities[j]``."""
    where = f"periods[{index}] ({period.period})"
    try:
        year = period.factor_year()
    except AccountingInputError as exc:
        raise AccountingInputError(f"{where}: {exc}") from None
    lines, notes = [], []
    for j, act in enumerate(period.activities):
        try:
            line, note = account_activity(act, year, region, settings, library)
        except AccountingInputError as exc:
            raise type(exc)(f"{where}.activities[{j}] ({act.carrier}): {exc}") from None
        lines.append(line)
        if note:
            notes.append(note)
    return PeriodResult(period.period, year, tuple(lines), period.output_value,
                        period.value_added, dict(period.products), dict(period.pollutants),
                        tuple(notes))


@dataclass(frozen=True)
class InventoryResult:
    """All periods of an inventory, and the decoupling between consecutive ones."""

    name: str | None
    kind: str
    settings: AccountingSettings
    periods: tuple[PeriodResult, ...]

    def decoupling(self) -> list[dict[str, Any]]:
        out = []
        for a, b in zip(self.periods, self.periods[1:], strict=False):
            g0, g1 = a.output_value.value, b.output_value.value
            e, state = analysis.tapio(a.co2e_t, b.co2e_t, g0, g1)
            out.append({
                "from": a.period, "to": b.period, "tapio_elasticity": e, "tapio_state": state,
                "synergy_state": analysis.synergy_state(g0, g1, a.co2e_t, b.co2e_t,
                                                        a.pollutants, b.pollutants),
            })
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "gwp_set": self.settings.gwp_set,
                "settings": self.settings.model_dump(mode="json"),
                "periods": [p.as_dict() for p in self.periods],
                "decoupling": self.decoupling()}


def account(inventory: Inventory, library: FactorLibrary | None = None) -> InventoryResult:
    """Account every period of an inventory with its own settings."""
    library = library or default_library()
    periods = tuple(account_period(i, p, inventory.region, inventory.settings, library)
                    for i, p in enumerate(inventory.periods))
    return InventoryResult(inventory.name, inventory.kind, inventory.settings, periods)
