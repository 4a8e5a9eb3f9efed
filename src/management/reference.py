"""Reference data of the management functions, as versioned files with provenance.

``data/efficiency_levels.yaml``: the 标杆 (benchmark) and 基准 (baseline) levels of unit-product
energy consumption; ``data/carbon_market.yaml``: the CCER offset cap and allocation benchmarks;
``data/upstream_factors.yaml``: upstream material factors for footprints. Every record carries an
``accounting.provenance.Provenance`` so a report can say where each level came from and whether
it was read in the source (``confirmed``) or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from accounting.provenance import Provenance, provenance_from
from management._data import load_yaml
from nengtan.errors import ConfigError


@dataclass(frozen=True, slots=True)
class EfficiencyLevel:
    """Benchmark and baseline of one product/process in one edition (lower is better)."""

    id: str
    product: str
    variant: str
    metric: str
    unit: str
    benchmark: float
    baseline: float
    provenance: Provenance

    def grade(self, value: float) -> str:
        """``benchmark`` (at or better than 标杆), ``between`` the two, or ``below_baseline``
        (worse than 基准: capacity to upgrade or retire)."""
        if value <= self.benchmark:
            return "benchmark"
        if value <= self.baseline:
            return "between"
        return "below_baseline"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "product": self.product, "variant": self.variant,
                "metric": self.metric, "unit": self.unit, "benchmark": self.benchmark,
                "baseline": self.baseline, "provenance": self.provenance.as_dict()}


@dataclass(frozen=True, slots=True)
class Figure:
    """A single reference figure (a rule, an allocation benchmark, an upstream factor)."""

    id: str
    value: float
    unit: str
    subject: str
    provenance: Provenance
    year: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "value": self.value, "unit": self.unit, "subject": self.subject,
                "year": self.year, "provenance": self.provenance.as_dict()}


def _prov(entry: Mapping[str, Any], where: str) -> Provenance:
    return provenance_from(dict(entry), where)


@lru_cache(maxsize=1)
def efficiency_levels() -> dict[str, EfficiencyLevel]:
    """Every efficiency level by id (data-file order)."""
    data = load_yaml("efficiency_levels.yaml")
    out: dict[str, EfficiencyLevel] = {}
    for e in data["levels"]:
        where = f"efficiency_levels.yaml: {e['id']}"
        if e["id"] in out:
            raise ValueError(f"{where}: duplicate id")
        if float(e["benchmark"]) > float(e["baseline"]):
            raise ValueError(f"{where}: benchmark is worse than baseline")
        out[str(e["id"])] = EfficiencyLevel(
            str(e["id"]), str(e["product"]), str(e["variant"]), str(e["metric"]), str(e["unit"]),
            float(e["benchmark"]), float(e["baseline"]), _prov(e, where))
    return out


def efficiency_level(level_id: str) -> EfficiencyLevel:
    """One level by id; ``ConfigError`` lists the known ids."""
    levels = efficiency_levels()
    if level_id not in levels:
        raise ConfigError(f"unknown efficiency level {level_id!r}; known: {', '.join(levels)}")
    return levels[level_id]


@lru_cache(maxsize=1)
def _carbon_market() -> tuple[dict[str, Figure], dict[str, Figure]]:
    data = load_yaml("carbon_market.yaml")
    rules = {str(e["id"]): Figure(str(e["id"]), float(e["value"]), "1", str(e["id"]),
                                  _prov(e, f"carbon_market.yaml: {e['id']}"))
             for e in data["rules"]}
    bench = {str(e["id"]): Figure(str(e["id"]), float(e["value"]), str(e["unit"]),
                                  str(e["product"]),
                                  _prov(e, f"carbon_market.yaml: {e['id']}"),
                                  int(e["year"]) if e.get("year") is not None else None)
             for e in data["allocation_benchmarks"]}
    return rules, bench


def market_rule(rule_id: str) -> Figure:
    """A carbon-market rule figure (e.g. ``ccer_offset_cap.national``)."""
    rules = _carbon_market()[0]
    if rule_id not in rules:
        raise ConfigError(f"unknown carbon-market rule {rule_id!r}; known: {', '.join(rules)}")
    return rules[rule_id]


def allocation_benchmarks() -> dict[str, Figure]:
    """Allocation benchmarks (tCO2 per unit of output) by id."""
    return dict(_carbon_market()[1])


@lru_cache(maxsize=1)
def upstream_factors() -> dict[str, Figure]:
    """Upstream material factors (kgCO2e per unit) by material."""
    data = load_yaml("upstream_factors.yaml")
    out: dict[str, Figure] = {}
    for e in data["factors"]:
        where = f"upstream_factors.yaml: {e['id']}"
        if e["material"] in out:
            raise ValueError(f"{where}: second factor for {e['material']!r}")
        out[str(e["material"])] = Figure(str(e["id"]), float(e["kgco2e_per_unit"]),
                                         f"kgCO2e/{e['uom']}", str(e["material"]), _prov(e, where))
    return out
