"""Efficiency benchmarking: unit-product energy consumption from metered energy and output,
graded against the 标杆/基准 levels, ranked among park peers, followed over periods, and compared
between equipment of a class where level-3 metering exists.

Unit-product energy consumption = kgce of the product's scope (its linked production unit, or
the enterprise) over the period ÷ output of the period. When several products share one scope,
the scope's energy is split by the BOM's ``energy_share`` or else by output quantity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from management.inputs import ManagementInputs
from management.metered import EnergyModel, Metered
from management.periods import Period
from management.production import OutputFigure, enterprise_value, output
from management.reference import EfficiencyLevel, efficiency_level


@dataclass(frozen=True, slots=True)
class ProductIntensity:
    """Unit-product energy consumption of one product in one period."""

    enterprise: str
    product: str
    scope: str
    period: str
    output: float
    output_uom: str
    output_basis: str
    energy_kgce: float
    kgce_per_unit: float | None
    level: EfficiencyLevel | None
    grade: str | None
    gap_to_benchmark: float | None
    """kgce per unit above the benchmark (negative: better than it)."""
    gap_to_baseline: float | None

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "level"}
        d["level"] = None if self.level is None else self.level.as_dict()
        return d


def _share(inputs: ManagementInputs, figs: dict[str, OutputFigure], enterprise: str,
           product: str) -> float:  # fmt: skip
    for bom in inputs.boms:
        if (bom.enterprise, bom.product) == (enterprise, product) and bom.energy_share:
            return bom.energy_share
    total = sum(f.quantity for f in figs.values())
    return figs[product].quantity / total if total > 0 else 0.0


def product_intensities(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
                        period: Period) -> list[ProductIntensity]:  # fmt: skip
    """One row per product of the park (in park order)."""
    rows = []
    for ent in model.park.enterprises:
        scopes: dict[str, list[str]] = {}
        for o in ent.output:
            link = inputs.link(ent.id, o.product)
            scopes.setdefault(link.unit if link and link.unit else ent.id, []).append(o.product)
        for scope, products in scopes.items():
            energy = model.energy(scope, metered, period.first, period.last)
            figs = {p: output(model.park, inputs, ent.id, p, period) for p in products}
            for p in products:
                link = inputs.link(ent.id, p)
                kgce = energy.kgce * (_share(inputs, figs, ent.id, p) if len(products) > 1
                                      else 1.0)
                fig = figs[p]
                value = kgce / fig.quantity if fig.quantity > 0 else None
                level = efficiency_level(link.level) if link and link.level else None
                rows.append(ProductIntensity(
                    ent.id, p, scope, period.label, fig.quantity, fig.uom, fig.basis, kgce, value,
                    level,
                    None if level is None or value is None else level.grade(value),
                    None if level is None or value is None else value - level.benchmark,
                    None if level is None or value is None else value - level.baseline,
                ))
    return rows


@dataclass(frozen=True, slots=True)
class PeerRow:
    """An enterprise among its park peers (comparable across industries via output value)."""

    enterprise: str
    industry: str
    energy_tce: float
    co2e_t: float
    output_value_1e4_cny: float | None
    tce_per_1e4_cny: float | None
    co2e_t_per_1e4_cny: float | None
    rank: int | None
    """1 = lowest energy per output value in the park."""
    vs_park: float | None
    """Ratio to the park's own intensity (Σ tce ÷ Σ value)."""


def peers(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
          period: Period) -> list[PeerRow]:  # fmt: skip
    """Every enterprise's energy and carbon intensity per output value, ranked."""
    raw = []
    for ent in model.park.enterprises:
        se = model.energy(ent.id, metered, period.first, period.last)
        value = enterprise_value(model.park, inputs, ent.id, period)
        raw.append((ent, se.energy_tce, se.co2e_t, value))
    total_v = sum(v for *_, v in raw if v)
    total_e = sum(e for _, e, _, v in raw if v)
    park_i = total_e / total_v if total_v > 0 else None
    ranked = sorted((e / v, ent.id) for ent, e, _, v in raw if v)
    rank = {eid: i + 1 for i, (_, eid) in enumerate(ranked)}
    out = []
    for ent, e, c, v in raw:
        inten = e / v if v else None
        out.append(PeerRow(ent.id, ent.industry, e, c, v, inten, c / v if v else None,
                           rank.get(ent.id),
                           inten / park_i if inten is not None and park_i else None))
    return out


def trend(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
          periods: list[Period]) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Per ``enterprise/product``: the intensity per period and its change from the previous."""
    out: dict[str, list[dict[str, Any]]] = {}
    for period in periods:
        for row in product_intensities(model, inputs, metered, period):
            series = out.setdefault(f"{row.enterprise}/{row.product}", [])
            prev = series[-1]["kgce_per_unit"] if series else None
            change = (row.kgce_per_unit / prev - 1.0
                      if prev and row.kgce_per_unit is not None else None)
            series.append({"period": period.label, "kgce_per_unit": row.kgce_per_unit,
                           "change": change, "grade": row.grade})
    return out


@dataclass(frozen=True, slots=True)
class EquipmentRow:
    """One level-3 unit in its comparison class."""

    unit: str
    enterprise: str
    equipment_class: str
    energy_kgce: float
    share_of_enterprise: float | None
    output: float | None
    output_uom: str | None
    kgce_per_output: float | None
    rank_in_class: int | None


def equipment(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
              period: Period) -> list[EquipmentRow]:  # fmt: skip
    """Level-3 units named in ``equipment`` (others with metering under class ``unclassified``)."""
    ix = model.park.index
    classes = {e.unit: e for e in inputs.equipment}
    units = [u for u in ix.units.values() if u.level == 3 and model.points_of(u.id)]
    rows: list[EquipmentRow] = []
    for u in units:
        ent = ix.unit_enterprise[u.id]
        e = model.energy(u.id, metered, period.first, period.last)
        ent_kgce = model.energy(ent, metered, period.first, period.last).kgce
        eq = classes.get(u.id)
        out_q: float | None = None
        out_uom: str | None = None
        spec: float | None = None
        if eq and eq.output_point:
            out_q = model.point_quantity(eq.output_point, metered, period.first, period.last)
            out_uom = model.table.points[eq.output_point].quantity_uom
            spec = e.kgce / out_q if out_q > 0 else None
        rows.append(EquipmentRow(u.id, ent, eq.equipment_class if eq else "unclassified",
                                 e.kgce, e.kgce / ent_kgce if ent_kgce > 0 else None, out_q,
                                 out_uom, spec, None))
    by_class: dict[str, list[tuple[float, str]]] = {}
    for r in rows:
        if r.kgce_per_output is not None:
            by_class.setdefault(r.equipment_class, []).append((r.kgce_per_output, r.unit))
    rank = {uid: i + 1 for members in by_class.values()
            for i, (_, uid) in enumerate(sorted(members))}
    return [replace(r, rank_in_class=rank.get(r.unit)) for r in rows]
