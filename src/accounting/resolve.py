"""Resolve one activity kind to per-unit coefficients: kgce, tCO2e, scope, category, factor id.

An activity kind is (carrier, unit, use) in a region and year, with optional measured parameters.
Both the inventories (one activity at a time) and the stream processors (a table built once per
worker, see ``accounting.vector``) multiply quantities by these coefficients, so the two paths can
never disagree. Signs: exported energy is a deduction (negative kgce and tCO2e); feedstock
(原料用能) has energy but no combustion CO2; on-site renewable generation has no emissions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from accounting import methods
from accounting.carriers import Carrier, get_carrier, is_carrier, kgce_per_unit
from accounting.errors import MethodError, UomMismatchError
from accounting.factors import Factor, FactorLibrary, default_library
from accounting.settings import AccountingSettings
from accounting.units import MJ_PER_KGCE, check_uom, factor, integrated_uom, parse_uom

Use = Literal["fuel", "feedstock", "purchased", "generated", "exported", "process"]
USES: tuple[str, ...] = ("fuel", "feedstock", "purchased", "generated", "exported", "process")

CATEGORIES: tuple[str, ...] = (
    # the park synergy guideline's Appendix B source categories
    "fuel_combustion", "industrial_processes", "transport", "purchased_electricity",
    "purchased_heat", "buildings", "waste_treatment", "ccus",
    # bookkeeping categories that keep energy flows apart
    "exported_electricity", "exported_heat", "feedstock", "onsite_generation", "working_media",
)
"""Every category a line may carry; an activity may name one explicitly (e.g. ``transport``)."""

_ALLOWED_USES: Mapping[str, tuple[str, ...]] = {
    "fuel": ("fuel", "feedstock"),
    "electricity": ("purchased", "exported"),
    "onsite_power": ("generated", "exported"),
    "heat": ("purchased", "exported"),
    "working_medium": ("purchased",),
}
_EMPTY: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Overrides:
    """Measured parameters that replace defaults (GB/T 32151: measured values take precedence).

    ``ncv`` GJ per activity unit, ``cc`` tC/GJ, ``of`` fraction, ``ef`` tCO2 (or tCO2e) per
    activity unit; ``purity`` of a carbonate; clinker ``cao``/``mgo`` and their non-carbonate
    parts as mass fractions.
    """

    ncv: float | None = None
    cc: float | None = None
    of: float | None = None
    ef: float | None = None
    purity: float | None = None
    cao: float | None = None
    mgo: float | None = None
    cao_noncarbonate: float | None = None
    mgo_noncarbonate: float | None = None

    def given(self) -> tuple[str, ...]:
        """Names of the parameters that are set."""
        return tuple(k for k in self.__slots__ if getattr(self, k) is not None)


NO_OVERRIDES = Overrides()


@dataclass(frozen=True, slots=True)
class Coefficients:
    """What one unit of an activity contributes. ``scope`` 0 means no emissions scope."""

    kgce_per_unit: float
    co2e_t_per_unit: float
    scope: int
    category: str
    factor_id: str
    kgce_factor_id: str | None
    gases_t_per_unit: Mapping[str, float] = field(default_factory=lambda: _EMPTY)


def resolve(
    carrier: str,
    uom: str,
    use: str,
    *,
    year: int,
    region: str | None = None,
    category: str | None = None,
    overrides: Overrides = NO_OVERRIDES,
    settings: AccountingSettings | None = None,
    library: FactorLibrary | None = None,
) -> Coefficients:
    """Per-unit coefficients of ``use`` of ``carrier`` measured in ``uom`` (a rate unit means its
    integrated unit). Raises ``AccountingInputError`` subclasses naming what does not fit."""
    settings = settings or AccountingSettings()
    library = library or default_library()
    if use not in USES:
        raise MethodError(f"unknown use {use!r}; one of: {', '.join(USES)}")
    if category is not None and category not in CATEGORIES:
        raise MethodError(f"unknown category {category!r}; one of: {', '.join(CATEGORIES)}")
    if use == "process":
        return _process(carrier, uom, category, overrides, settings, library)
    qty_uom = integrated_uom(check_uom(carrier, uom).symbol)
    c = get_carrier(carrier)
    if use not in _ALLOWED_USES[c.kind]:
        raise MethodError(
            f"use {use!r} does not apply to carrier {carrier!r} ({c.kind}); "
            f"allowed: {', '.join(_ALLOWED_USES[c.kind])}"
        )
    kgce_id = settings.kgce_versions.get(carrier)
    if c.kind in ("electricity", "onsite_power"):
        return _electricity(c, qty_uom, use, year, region, category, overrides, settings, library,
                            kgce_id)
    kgce = kgce_per_unit(carrier, qty_uom, kgce_id)
    kid = c.kgce_version(kgce_id).id
    if c.kind == "fuel":
        return _fuel(c, qty_uom, use, category, overrides, settings, library, kgce, kid)
    if c.kind == "heat":
        gj = factor(qty_uom, "GJ", carrier)
        if overrides.ef is not None:
            ef, fid = overrides.ef, f"measured.{carrier}.ef"
        else:
            f = library.get(settings.heat_factor_id)
            ef, fid = f.values["ef"] * gj, f.id
        sign = -1.0 if use == "exported" else 1.0
        cat = category or ("exported_heat" if use == "exported" else "purchased_heat")
        return Coefficients(sign * kgce, sign * ef, 2, cat, fid, kid, {"co2": sign * ef})
    # working media: energy only (their indirect emissions are not scope 2 under GB/T 32151)
    return Coefficients(kgce, 0.0, 0, category or "working_media", f"none.{carrier}", kid)


def _fuel(
    c: Carrier, uom: str, use: str, category: str | None, ov: Overrides,
    settings: AccountingSettings, library: FactorLibrary, kgce: float, kid: str,
) -> Coefficients:
    if use == "feedstock":
        return Coefficients(kgce, 0.0, 0, category or "feedstock", f"none.feedstock.{c.id}", kid)
    cat = category or "fuel_combustion"
    if ov.ef is not None:
        return Coefficients(kgce, ov.ef, 1, cat, f"measured.{c.id}.ef", kid, {"co2": ov.ef})
    unit = parse_uom(uom)
    # GJ of fuel energy in one activity unit, from the unit itself when it is an energy unit
    gj_in_unit = kgce * MJ_PER_KGCE / 1000.0 if unit.dimension == "energy" else None
    default = library.fuel(c.id, settings.fuel_sets)
    ncv = ov.ncv if gj_in_unit is None else gj_in_unit
    cc, of = ov.cc, ov.of
    used: list[str] = []
    if default is not None:
        v = default.values
        per = str(default.attrs["per"])
        if "ef" in v and not ov.given():
            ef = v["ef"] * factor(uom, per, c.id)
            return Coefficients(kgce, ef, 1, cat, default.id, kid, {"co2": ef})
        if "ef_per_gj" in v and not ov.given():
            ef = v["ef_per_gj"] * (gj_in_unit or factor(uom, "GJ", c.id))
            return Coefficients(kgce, ef, 1, cat, default.id, kid, {"co2": ef})
        if ncv is None and "ncv" in v:
            ncv = v["ncv"] * factor(uom, per, c.id)
            used.append("ncv")
        if cc is None and "cc" in v:
            cc = v["cc"]
            used.append("cc")
        if of is None and "of" in v:
            of = v["of"]
            used.append("of")
    if ncv is None or cc is None or of is None:
        raise MethodError(
            f"no default fuel parameters for {c.id!r} in sets {list(settings.fuel_sets)}; "
            "give ncv, cc and of, or ef"
        )
    ef = methods.emission_factor_t_per_unit(ncv, cc, of)
    measured = [k for k in ("ncv", "cc", "of") if getattr(ov, k) is not None]
    if default is None or not used:
        fid = f"measured.{c.id}." + "+".join(measured or ["energy-unit"])
    elif measured:
        fid = f"{default.id}+measured({','.join(measured)})"
    else:
        fid = default.id
    return Coefficients(kgce, ef, 1, cat, fid, kid, {"co2": ef})


def _electricity(
    c: Carrier, uom: str, use: str, year: int, region: str | None, category: str | None,
    ov: Overrides, settings: AccountingSettings, library: FactorLibrary, kgce_id: str | None,
) -> Coefficients:
    kwh = factor(uom, "kWh")
    if settings.electricity_kgce_method == "equal_value":
        rate: float | None = settings.equal_value_coal_rate_kgce_per_kwh
        kid = "setting.equal_value_coal_rate"
        if rate is None:
            rate_factor = library.coal_rate(year)
            rate, kid = rate_factor.values["kgce_per_kwh"], rate_factor.id
        kgce = rate * kwh
    else:
        kgce = kgce_per_unit(c.id, uom, kgce_id)
        kid = c.kgce_version(kgce_id).id
    if use == "generated":
        if not c.onsite_primary:  # the fuel or heat it came from is already counted
            return Coefficients(0.0, 0.0, 0, category or "onsite_generation",
                                f"none.generated.{c.id}", None)
        return Coefficients(kgce, 0.0, 0, category or "onsite_generation",
                            f"none.generated.{c.id}", kid)
    sign = -1.0 if use == "exported" else 1.0
    cat = category or ("exported_electricity" if use == "exported" else "purchased_electricity")
    if ov.ef is not None:
        ef, fid = ov.ef, f"measured.{c.id}.ef"
    else:
        f = grid_factor(year, region, settings, library)
        ef, fid = f.values["ef"] * kwh / 1000.0, f.id
    return Coefficients(sign * kgce, sign * ef, 2, cat, fid, kid, {"co2": sign * ef})


def grid_factor(
    year: int, region: str | None, settings: AccountingSettings, library: FactorLibrary,
    *, variant: str | None = None,
) -> Factor:
    """The grid factor the settings select for an enterprise in ``region`` and ``year``
    (market-based accounting uses the residual 'excluding market-traded non-fossil' variant)."""
    if variant is None:
        variant = ("excl_market_nonfossil" if settings.electricity_method == "market"
                   else settings.grid_variant)
    return library.grid(settings.grid_region or region, settings.grid_year or year,
                        settings.grid_series, variant)


def _process(
    material: str, uom: str, category: str | None, ov: Overrides,
    settings: AccountingSettings, library: FactorLibrary,
) -> Coefficients:
    unit = parse_uom(uom)
    if unit.dimension != "mass" or unit.is_rate:
        raise UomMismatchError(
            f"process activity {material!r} must be a mass (t or kg), not {unit.symbol!r}"
        )
    t = factor(unit.symbol, "t")
    if is_carrier(material):
        raise MethodError(
            f"{material!r} is an energy carrier; use 'fuel' or 'feedstock' for it, and 'process' "
            "for carbonates, clinker, captured CO2 and released gases"
        )
    if material == "clinker":
        if ov.ef is not None:
            ef, fid = ov.ef, "measured.clinker.ef"
        else:
            if ov.cao is None or ov.mgo is None:
                raise MethodError("clinker needs 'cao' and 'mgo' (mass fractions) or 'ef'")
            f = library.all("clinker")[0]
            ef = methods.clinker_ef_t_per_t(
                ov.cao, ov.mgo, ov.cao_noncarbonate or 0.0, ov.mgo_noncarbonate or 0.0,
                f.values["cao_to_co2"], f.values["mgo_to_co2"],
            )
            fid = f.id
        return Coefficients(0.0, ef * t, 1, category or "industrial_processes", fid, None,
                            {"co2": ef * t})
    if library.is_gas(material):
        gwp = library.gwp(settings.gwp_set, material)
        co2e = (ov.ef if ov.ef is not None else gwp.values["gwp"]) * t
        fid = f"measured.{material}.ef" if ov.ef is not None else gwp.id
        return Coefficients(0.0, co2e, 1, category or "industrial_processes", fid, None,
                            {material.lower(): t})
    f = library.process(material)
    if ov.ef is not None:
        ef, fid = ov.ef, f"measured.{material}.ef"
    else:
        ef, fid = methods.carbonate_co2_t(1.0, f.values["ef"], ov.purity or 1.0), f.id
        if ov.purity is not None:
            fid = f"{f.id}+measured(purity)"
    default_cat = "ccus" if ef < 0 else "industrial_processes"
    return Coefficients(0.0, ef * t, 1, category or default_cat, fid, None, {"co2": ef * t})
