"""The emission-factor library: versioned data files with provenance, and lookups by meaning.

Files under ``data/factors/`` (fuels, electricity, heat, gwp, process) and the standard-coal
coefficients of ``data/carriers.yaml`` are read into immutable :class:`Factor` records with
stable ids that name the data entry (``fuel.natural_gas.setA``, ``grid.east.2022.mee-nbs``,
``gwp.AR5.sf6``). Lookups return the record itself so every result can name the factor it used.
Disagreeing sources stay separate records; choosing between them is a setting, never an average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from accounting._data import load_yaml
from accounting.carriers import load_carriers
from accounting.errors import UnknownFactorError
from accounting.provenance import Provenance, provenance_from
from accounting.units import parse_uom

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_PROVENANCE_KEYS = ("source", "clause", "edition", "valid_from", "valid_to", "status", "note")


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor version: its values (with units), what it applies to, and where it comes from.

    ``kind`` is one of kgce, fuel, grid, lca, coal_rate, heat, gwp, process, clinker; ``subject``
    is the carrier, region, gas or material; ``attrs`` holds year, series, variant, set, per.
    """

    id: str
    kind: str
    subject: str
    values: Mapping[str, float]
    units: Mapping[str, str]
    provenance: Provenance
    attrs: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form for ``nengtan factors show``."""
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "values": dict(self.values),
            "units": dict(self.units),
            **{k: v for k, v in self.attrs.items()},
            "provenance": self.provenance.as_dict(),
        }


def _freeze(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


def _prov(entry: Mapping[str, Any], defaults: Mapping[str, Any], where: str) -> Provenance:
    merged = {k: defaults.get(k) for k in _PROVENANCE_KEYS}
    merged.update({k: entry[k] for k in _PROVENANCE_KEYS if k in entry})
    return provenance_from(merged, where)


def _kgce_factors() -> Iterable[Factor]:
    for carrier in load_carriers().values():
        for coef in carrier.kgce:
            yield Factor(coef.id, "kgce", carrier.id, _freeze({"kgce": coef.value}),
                         _freeze({"kgce": f"kgce/{coef.per_uom}"}), coef.provenance)


def _fuel_factors() -> Iterable[Factor]:
    data = load_yaml("factors/fuels.yaml")
    sets: Mapping[str, Mapping[str, Any]] = data["sets"]
    for e in data["fuels"]:
        where = f"factors/fuels.yaml: {e['id']}"
        per = parse_uom(str(e.get("per", "GJ"))).symbol
        values: dict[str, float] = {}
        units: dict[str, str] = {}
        for key, unit in (("ncv", f"GJ/{per}"), ("cc", "tC/GJ"), ("of", "1"),
                          ("ef", f"tCO2/{per}"), ("ef_per_gj", "tCO2/GJ")):
            if key in e:
                values[key] = float(e[key])
                units[key] = unit
        if not ({"ncv", "cc", "of"} <= values.keys() or "ef" in values or "ef_per_gj" in values):
            raise ValueError(f"{where}: needs ncv, cc and of, or ef, or ef_per_gj")
        yield Factor(str(e["id"]), "fuel", str(e["carrier"]), _freeze(values), _freeze(units),
                     _prov(e, sets[e["set"]], where), _freeze({"set": e["set"], "per": per}))


def _electricity_factors() -> Iterable[Factor]:
    data = load_yaml("factors/electricity.yaml")
    for e in data["grid"]:
        where = f"factors/electricity.yaml: {e['id']}"
        attrs = {k: e[k] for k in ("year", "series", "variant")}
        yield Factor(str(e["id"]), "grid", str(e["region"]), _freeze({"ef": float(e["ef"])}),
                     _freeze({"ef": "tCO2/MWh"}), _prov(e, {}, where), _freeze(attrs))
    for e in data.get("lca", []):
        where = f"factors/electricity.yaml: {e['id']}"
        yield Factor(str(e["id"]), "lca", str(e["carrier"]), _freeze({"ef": float(e["ef"])}),
                     _freeze({"ef": "tCO2e/MWh"}), _prov(e, {}, where),
                     _freeze({"year": e["year"]}))
    for e in data.get("coal_rate", []):
        where = f"factors/electricity.yaml: {e['id']}"
        yield Factor(str(e["id"]), "coal_rate", "electricity",
                     _freeze({"kgce_per_kwh": float(e["kgce_per_kwh"])}),
                     _freeze({"kgce_per_kwh": "kgce/kWh"}), _prov(e, {}, where),
                     _freeze({"year": e["year"]}))


def _other_factors() -> Iterable[Factor]:
    for e in load_yaml("factors/heat.yaml")["heat"]:
        yield Factor(str(e["id"]), "heat", "heat", _freeze({"ef": float(e["ef"])}),
                     _freeze({"ef": "tCO2/GJ"}), _prov(e, {}, f"factors/heat.yaml: {e['id']}"))
    for set_name, s in load_yaml("factors/gwp.yaml")["sets"].items():
        prov = _prov(s, {}, f"factors/gwp.yaml: {set_name}")
        for gas, value in s["gwp"].items():
            yield Factor(f"gwp.{set_name}.{gas}", "gwp", str(gas), _freeze({"gwp": float(value)}),
                         _freeze({"gwp": "tCO2e/t"}), prov, _freeze({"set": set_name}))
    process = load_yaml("factors/process.yaml")
    for e in process["materials"]:
        yield Factor(str(e["id"]), "process", str(e["material"]), _freeze({"ef": float(e["ef"])}),
                     _freeze({"ef": "tCO2/t"}), _prov(e, {}, f"factors/process.yaml: {e['id']}"))
    for e in process["clinker"]:
        yield Factor(str(e["id"]), "clinker", "clinker",
                     _freeze({"cao_to_co2": float(e["cao_to_co2"]),
                              "mgo_to_co2": float(e["mgo_to_co2"])}),
                     _freeze({"cao_to_co2": "tCO2/t CaO", "mgo_to_co2": "tCO2/t MgO"}),
                     _prov(e, {}, f"factors/process.yaml: {e['id']}"))


class FactorLibrary:
    """All factors, indexed by id and by meaning. Build once (``default_library()``) and share."""

    def __init__(self, factors: Iterable[Factor], province_region: Mapping[str, str]) -> None:
        self._by_id: dict[str, Factor] = {}
        for f in factors:
            if f.id in self._by_id:
                raise ValueError(f"duplicate factor id {f.id!r}")
            self._by_id[f.id] = f
        self.province_region: Mapping[str, str] = MappingProxyType(dict(province_region))

    # --- generic ------------------------------------------------------------------------------
    def __iter__(self) -> Iterable[Factor]:  # type: ignore[override]
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def all(self, kind: str | None = None, subject: str | None = None) -> list[Factor]:
        """Factors in file order, optionally of one kind and/or about one subject."""
        return [f for f in self._by_id.values()
                if (kind is None or f.kind == kind) and (subject is None or f.subject == subject)]

    def get(self, factor_id: str) -> Factor:
        """The factor ``factor_id``; ``UnknownFactorError`` names it otherwise."""
        try:
            return self._by_id[factor_id]
        except KeyError:
            raise UnknownFactorError(
                f"unknown factor id {factor_id!r}; `nengtan factors list` shows them"
            ) from None

    # --- by meaning ---------------------------------------------------------------------------
    def fuel(self, carrier: str, sets: Sequence[str]) -> Factor | None:
        """The first fuel-parameter version of ``carrier`` in the preferred ``sets`` order."""
        for set_name in sets:
            f = self._by_id.get(f"fuel.{carrier}.{set_name}")
            if f is not None:
                return f
        return None

    def grid_region(self, region: str | None) -> str:
        """Grid region of a province or region id (``None`` or unknown -> ``national``)."""
        if not region:
            return "national"
        key = region.strip().lower()
        return self.province_region.get(key, key)

    def grid(self, region: str | None, year: int, series: str, variant: str) -> Factor:
        """The grid factor for the region (province, then its grid region, then national) and
        the latest year not after ``year`` (the earliest one if ``year`` predates them all)."""
        candidates = [f for f in self.all("grid")
                      if f.attrs["series"] == series and f.attrs["variant"] == variant]
        if not candidates:
            raise UnknownFactorError(f"no grid factors of series {series!r}, variant {variant!r}")
        wanted = region.strip().lower() if region else "national"
        for area in dict.fromkeys((wanted, self.grid_region(region), "national")):
            in_area = [f for f in candidates if f.subject == area]
            if in_area:
                return _by_year(in_area, year)
        raise UnknownFactorError(f"no grid factor for region {region!r} ({series}, {variant})")

    def gwp(self, set_name: str, gas: str) -> Factor:
        """GWP100 of ``gas`` in the set (``SAR``, ``AR4``, ``AR5``, ``AR6``)."""
        f = self._by_id.get(f"gwp.{set_name}.{gas.lower()}")
        if f is None:
            gases = sorted({g.subject for g in self.all("gwp")})
            raise UnknownFactorError(
                f"no GWP for gas {gas!r} in set {set_name!r}; gases: {', '.join(gases)}"
            )
        return f

    def process(self, material: str) -> Factor:
        """The process factor of a carbonate or other material (e.g. ``limestone``)."""
        found = self.all("process", material)
        if not found:
            names = sorted({f.subject for f in self.all("process")})
            raise UnknownFactorError(
                f"no process factor for {material!r}; materials: {', '.join(names)}"
            )
        return found[0]

    def coal_rate(self, year: int) -> Factor:
        """Thermal-power supply coal rate for the equal-value method (latest year ≤ ``year``)."""
        return _by_year(self.all("coal_rate"), year)

    def is_gas(self, name: str) -> bool:
        """Whether ``name`` is a greenhouse gas with a GWP in the library."""
        return any(f.subject == name.lower() for f in self.all("gwp"))


def _by_year(factors: list[Factor], year: int) -> Factor:
    if not factors:
        raise UnknownFactorError("no factor series for this lookup")
    ordered = sorted(factors, key=lambda f: int(f.attrs["year"]))
    chosen = ordered[0]
    for f in ordered:
        if int(f.attrs["year"]) <= year:
            chosen = f
    return chosen


@lru_cache(maxsize=1)
def default_library() -> FactorLibrary:
    """The library built from the shipped data files (cached; immutable)."""
    regions = load_yaml("regions.yaml")["regions"]
    province_region = {p: region for region, provinces in regions.items() for p in provinces}
    factors = [*_kgce_factors(), *_fuel_factors(), *_electricity_factors(), *_other_factors()]
    return FactorLibrary(factors, province_region)
