"""Product carbon footprint, cradle to gate (GB/T 24067), per declared unit of product.

    CFP = Σ_materials q_i × EF_i  +  Σ_energy e_j × EF_j  +  process emissions

Materials come from the bill of materials; each factor EF_i is, in order of precedence, the
supplier's own figure (an accepted supply-chain submission), an own figure given in the BOM with
its source, or the upstream library (``data/upstream_factors.yaml``). Energy e_j per unit is the
metered consumption of the product's scope over the period × the product's share ÷ output.
Energy factors: purchased electricity at the life-cycle grid factor (``lca.electricity``), on-site
renewable electricity at its technology's life-cycle factor, fuels and purchased heat at the
accounting engine's factors (combustion; scope 1/2 coefficients) plus the fuel's upstream factor
where the library has one; exported energy is outside the product system.

Green-electricity certificates: with G MWh of certificates against P MWh of the enterprise's
purchased electricity in the period, the covered share is g = min(1, G / P), and purchased
electricity is counted at (1 − g)·EF_grid + g·EF_tech. So, per declared unit,

    CFP_green − CFP_grid-only = − e_el × g × (EF_grid − EF_tech)

where e_el is the product's purchased electricity per unit (kWh).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from accounting.factors import Factor, default_library
from accounting.units import factor as convert_factor
from management.inputs import Bom, ManagementInputs
from management.metered import EnergyModel, Metered
from management.periods import Period
from management.production import output
from management.reference import upstream_factors
from management.supply import Submission, supplier_factor
from nengtan.errors import ConfigError

TECH_CARRIER = {"wind": "electricity_wind", "pv": "electricity_pv",
                "biomass": "electricity_biomass"}


@dataclass(frozen=True, slots=True)
class FootprintLine:
    """One contribution per declared unit."""

    kind: str
    """``material``, ``energy`` or ``process``."""
    item: str
    quantity: float
    uom: str
    kgco2e_per_unit: float
    kgco2e: float
    basis: str
    """Where the factor comes from: ``supplier:<id> (<basis>)``, ``bom:<source>``, a factor id."""
    status: str | None = None


@dataclass(frozen=True, slots=True)
class GreenShare:
    certificates_mwh: float
    purchased_mwh: float
    share: float
    technology: str | None
    ef_grid_kg_per_kwh: float
    ef_green_kg_per_kwh: float
    grid_factor_id: str
    green_factor_id: str | None


@dataclass(frozen=True, slots=True)
class Footprint:
    """A product's cradle-to-gate footprint for one period."""

    enterprise: str
    product: str
    period: str
    declared_unit: str
    output: float
    output_basis: str
    lines: tuple[FootprintLine, ...]
    green: GreenShare
    grid_only_kgco2e: float
    notes: tuple[str, ...] = field(default=())

    @property
    def kgco2e(self) -> float:
        return sum(ln.kgco2e for ln in self.lines)

    @property
    def green_delta_kgco2e(self) -> float:
        """CFP with certificates − grid-only CFP (≤ 0)."""
        return self.kgco2e - self.grid_only_kgco2e

    def by_kind(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for ln in self.lines:
            out[ln.kind] = out.get(ln.kind, 0.0) + ln.kgco2e
        return out

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(kgco2e=self.kgco2e, green_delta_kgco2e=self.green_delta_kgco2e,
                 by_kind=self.by_kind(), method="GB/T 24067 cradle-to-gate")
        return d


def _lca(carrier: str, year: int) -> Factor | None:
    """The latest life-cycle electricity factor of a carrier not after ``year``."""
    cands = [f for f in default_library().all("lca", carrier) if int(f.attrs["year"]) <= year]
    if not cands:
        cands = default_library().all("lca", carrier)
    return max(cands, key=lambda f: int(f.attrs["year"])) if cands else None


def _material(bom: Bom, line: Any, period: Period,
              subs: list[Submission]) -> FootprintLine:  # fmt: skip
    sub = supplier_factor(subs, bom.enterprise, line.material, period.label, line.supplier)
    if sub is not None:
        ef = sub.kgco2e_per_unit * (convert_factor(line.uom, sub.uom)
                                    if line.uom != sub.uom else 1.0)
        return FootprintLine("material", line.material, line.quantity, line.uom, ef,
                             line.quantity * ef, f"supplier:{sub.supplier} ({sub.basis})",
                             "supplier")
    if line.kgco2e_per_unit is not None:
        return FootprintLine("material", line.material, line.quantity, line.uom,
                             line.kgco2e_per_unit, line.quantity * line.kgco2e_per_unit,
                             f"bom:{line.source or 'own figure'}", "own")
    lib = upstream_factors().get(line.material)
    if lib is None:
        raise ConfigError(f"footprint of {bom.enterprise}/{bom.product}: material "
                          f"{line.material!r} has no supplier figure, no own figure and no "
                          "upstream factor")
    per = lib.unit.split("/", 1)[1]
    ef = lib.value / convert_factor(per, line.uom) if per != line.uom else lib.value
    return FootprintLine("material", line.material, line.quantity, line.uom, ef,
                         line.quantity * ef, lib.id, lib.provenance.status)


def green_share(model: EnergyModel, inputs: ManagementInputs, metered: Metered, enterprise: str,
                period: Period) -> GreenShare:  # fmt: skip
    """The covered share g of the enterprise's purchased electricity in the period."""
    certs = [g for g in inputs.green_certificates
             if g.enterprise == enterprise and g.period == period.label]
    mwh = sum(g.mwh for g in certs)
    e = model.energy(enterprise, metered, period.first, period.last)
    purchased = sum(ln.quantity * convert_factor(ln.uom, "MWh") for ln in e.lines
                    if ln.carrier == "electricity" and ln.use == "purchased")
    grid = _lca("electricity", period.year)
    if grid is None:
        raise ConfigError("no life-cycle grid electricity factor (lca.electricity) in the library")
    tech = certs[0].technology if certs else None
    green = _lca(TECH_CARRIER[tech], period.year) if tech else None
    share = min(1.0, mwh / purchased) if purchased > 0 else 0.0
    return GreenShare(mwh, purchased, share, tech, grid.values["ef"],
                      green.values["ef"] if green else 0.0, grid.id,
                      green.id if green else None)


def _energy(model: EnergyModel, scope: str, metered: Metered, period: Period, share: float,
            out_q: float, g: GreenShare, use_green: bool) -> list[FootprintLine]:  # fmt: skip
    lines = []
    up = upstream_factors()
    for ln in model.energy(scope, metered, period.first, period.last).lines:
        if ln.use == "exported" or ln.quantity == 0:
            continue
        q = ln.quantity * share / out_q
        if ln.carrier == "electricity" and ln.use == "purchased":
            kwh = convert_factor(ln.uom, "kWh")
            s = g.share if use_green else 0.0
            ef_kwh = (1 - s) * g.ef_grid_kg_per_kwh + s * g.ef_green_kg_per_kwh
            basis = g.grid_factor_id + (f"+gec({s:.4f}×{g.green_factor_id})" if s else "")
            lines.append(FootprintLine("energy", ln.point, q, ln.uom, ef_kwh * kwh,
                                       q * ef_kwh * kwh, basis))
            continue
        if ln.use == "generated":
            f = _lca(ln.carrier, period.year)
            ef = (f.values["ef"] * convert_factor(ln.uom, "kWh")) if f else 0.0
            lines.append(FootprintLine("energy", ln.point, q, ln.uom, ef, q * ef,
                                       f.id if f else "none"))
            continue
        ef = ln.co2e_t * 1000.0 / ln.quantity  # the engine's factor, kg per quantity unit
        basis = ln.factor_id or "none"
        status = None
        u = up.get(ln.carrier)
        if u is not None:
            per = u.unit.split("/", 1)[1]
            ef += u.value / convert_factor(per, ln.uom, ln.carrier) if per != ln.uom \
                else u.value
            basis += f"+{u.id}"
            status = u.provenance.status
        lines.append(FootprintLine("energy", ln.point, q, ln.uom, ef, q * ef, basis, status))
    return lines


def _scope_of(inputs: ManagementInputs, enterprise: str, product: str) -> str:
    link = inputs.link(enterprise, product)
    return link.unit if link and link.unit else enterprise


def footprint(model: EnergyModel, inputs: ManagementInputs, metered: Metered, enterprise: str,
              product: str, period: Period,
              submissions: list[Submission] | None = None) -> Footprint:  # fmt: skip
    """The footprint of one product in one period (with and without green certificates)."""
    bom = next((b for b in inputs.boms if (b.enterprise, b.product) == (enterprise, product)),
               None)
    if bom is None:
        raise ConfigError(f"no bill of materials for {enterprise}/{product}")
    scope = _scope_of(inputs, enterprise, product)
    out = output(model.park, inputs, enterprise, product, period)
    if out.quantity <= 0:
        raise ConfigError(f"footprint of {enterprise}/{product}: no output in {period.label}")
    same_scope = [o.product for o in model.park.index.enterprises[enterprise].output
                  if _scope_of(inputs, enterprise, o.product) == scope]
    if bom.energy_share is not None:
        share = bom.energy_share
    elif len(same_scope) > 1:
        qs = {p: output(model.park, inputs, enterprise, p, period).quantity for p in same_scope}
        share = qs[product] / sum(qs.values())
    else:
        share = 1.0
    g = green_share(model, inputs, metered, enterprise, period)
    materials = [_material(bom, ln, period, submissions or []) for ln in bom.materials]
    process = ([FootprintLine("process", "process emissions", 1.0, bom.per,
                              bom.process_kgco2e_per_unit, bom.process_kgco2e_per_unit,
                              f"bom:{bom.process_source or 'own figure'}", "own")]
               if bom.process_kgco2e_per_unit else [])
    energy = _energy(model, scope, metered, period, share, out.quantity, g, True)
    grid_only = _energy(model, scope, metered, period, share, out.quantity, g, False)
    fixed = sum(ln.kgco2e for ln in materials + process)
    notes = []
    if any(ln.status == "unconfirmed" for ln in materials + energy):
        notes.append("some upstream factors are unconfirmed library placeholders")
    return Footprint(enterprise, product, period.label, f"1 {bom.per}", out.quantity, out.basis,
                     tuple(materials + energy + process), g,
                     fixed + sum(ln.kgco2e for ln in grid_only), tuple(notes))
