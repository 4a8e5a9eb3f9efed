"""The management inputs of one park: product links, production records and plans, budgets and
their re-allocations, the carbon-asset ledger, prices, bills of materials, green certificates and
equipment classes. A YAML file (``schema: nengtan.management/1``, format in docs/management.md);
the same records are kept in the database when entered through the API.

Output quantities, energy and emissions are never typed here: energy comes from the meters and
the reference output from the park model; this file holds only what the management functions add.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accounting.units import parse_uom
from ingest.park.models import Park
from management.periods import parse_period
from nengtan.errors import ConfigError

Metric = Literal["energy_tce", "co2e_t"]
LedgerKind = Literal[
    "allocation", "allowance_buy", "allowance_sell", "allowance_surrender",
    "ccer_buy", "ccer_sell", "ccer_surrender",
]
LEDGER_KINDS: tuple[str, ...] = (
    "allocation", "allowance_buy", "allowance_sell", "allowance_surrender",
    "ccer_buy", "ccer_sell", "ccer_surrender",
)


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _period(value: Any) -> str:
    text = str(value)
    parse_period(text)
    return text


class ProductLink(_M):
    """Links a park output (enterprise, product) to the unit whose energy makes it and to an
    efficiency level. ``unit`` None: the whole enterprise's energy."""

    enterprise: str
    product: str
    unit: str | None = None
    level: str | None = Field(None, description="efficiency level id (efficiency_levels.yaml)")


class OutputRecord(_M):
    """Recorded (``production``) or planned (``plans``) output of a product in a period."""

    enterprise: str
    product: str
    period: str
    quantity: float = Field(ge=0)
    value_1e4_cny: float | None = Field(None, ge=0, description="output value of the period")

    _p = field_validator("period", mode="before")(_period)


class Budget(_M):
    """An energy (tce) or carbon (tCO2e) budget of an enterprise or production unit."""

    id: str = Field(min_length=1)
    scope: str = Field(description="enterprise id or production-unit id")
    period: str
    metric: Metric
    amount: float = Field(gt=0)
    product: str | None = Field(None, description="output that drives the forecast; default: "
                                "the scope's linked product")

    _p = field_validator("period", mode="before")(_period)


class Reallocation(_M):
    """A recorded move of budget from one budget to another (same period and metric)."""

    id: str = Field(min_length=1)
    from_budget: str
    to_budget: str
    amount: float = Field(gt=0)
    day: date
    reason: str = Field(min_length=1)


class Allocation(_M):
    """Allowances of an enterprise for a compliance period: entered (``quantity_t``) or
    estimated as allocation benchmark × output × correction."""

    enterprise: str
    compliance_period: str
    quantity_t: float | None = Field(None, ge=0)
    benchmark_id: str | None = Field(None, description="carbon_market.yaml allocation benchmark")
    benchmark_t_per_unit: float | None = Field(None, gt=0)
    benchmark_source: str | None = Field(None, description="where an own benchmark comes from")
    product: str | None = None
    correction: float = Field(1.0, gt=0)

    _p = field_validator("compliance_period", mode="before")(_period)


class LedgerEntry(_M):
    """One movement of carbon assets (tCO2 = one allowance or one CCER)."""

    id: str = Field(min_length=1)
    enterprise: str
    compliance_period: str
    day: date
    kind: LedgerKind
    quantity_t: float = Field(gt=0)
    price_cny_per_t: float | None = Field(None, ge=0)
    counterparty: str | None = None
    note: str | None = None

    _p = field_validator("compliance_period", mode="before")(_period)


class Prices(_M):
    """Valuation prices (configurable; state their date and source in reports)."""

    allowance_cny_per_t: float = Field(ge=0)
    ccer_cny_per_t: float = Field(ge=0)
    as_of: date | None = None
    source: str | None = None


class BomLine(_M):
    """A material per declared unit of product. ``kgco2e_per_unit`` with ``source``: an own
    figure; else a supplier submission, else the upstream factor library."""

    material: str
    quantity: float = Field(ge=0)
    uom: str
    supplier: str | None = None
    kgco2e_per_unit: float | None = Field(None, ge=0)
    source: str | None = None


class Bom(_M):
    """Bill of materials and process emissions of one product (per ``per`` unit of product)."""

    enterprise: str
    product: str
    per: str = "t"
    materials: list[BomLine] = Field(default_factory=list)
    process_kgco2e_per_unit: float = Field(0.0, ge=0, description="direct process emissions")
    process_source: str | None = None
    energy_share: float | None = Field(
        None, gt=0, le=1,
        description="share of the linked unit's metered energy allocated to this product; "
        "default: by output mass among the unit's products")


class GreenCertificates(_M):
    """Green-electricity certificates (GEC) an enterprise holds for a period's consumption."""

    enterprise: str
    period: str
    mwh: float = Field(ge=0)
    technology: Literal["wind", "pv", "biomass"] = "wind"

    _p = field_validator("period", mode="before")(_period)


class Equipment(_M):
    """A level-3 unit in a comparison class (e.g. ``gas_boiler``), with the point that meters
    its useful output when there is one (specific consumption = kgce in / output)."""

    unit: str
    equipment_class: str
    output_point: str | None = None


class ManagementInputs(_M):
    """The whole inputs file."""

    schema_: Literal["nengtan.management/1"] = Field("nengtan.management/1", alias="schema")
    park: str
    products: list[ProductLink] = Field(default_factory=list)
    production: list[OutputRecord] = Field(default_factory=list)
    plans: list[OutputRecord] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    reallocations: list[Reallocation] = Field(default_factory=list)
    allocations: list[Allocation] = Field(default_factory=list)
    ledger: list[LedgerEntry] = Field(default_factory=list)
    prices: Prices | None = None
    boms: list[Bom] = Field(default_factory=list)
    green_certificates: list[GreenCertificates] = Field(default_factory=list)
    equipment: list[Equipment] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def link(self, enterprise: str, product: str) -> ProductLink | None:
        for p in self.products:
            if p.enterprise == enterprise and p.product == product:
                return p
        return None


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top>"


def parse_inputs(data: Any, source: str = "<inputs>") -> ManagementInputs:
    """Validate a parsed inputs document; ``ConfigError`` names the file, entry and problem."""
    try:
        return ManagementInputs.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_where(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{source}: {problems[0]}{more}") from None


def load_inputs(path: str | Path) -> ManagementInputs:
    """Read and validate an inputs YAML file."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_inputs(data, str(p))


def check_against(inputs: ManagementInputs, park: Park, source: str = "<inputs>") -> None:
    """Cross-check ids against the park model: enterprises, units, points, products, budgets."""
    ix = park.index
    ents = {e.id: e for e in park.enterprises}
    if inputs.park != park.id:
        raise ConfigError(f"{source}: park: {inputs.park!r} is not the park file's {park.id!r}")

    def ent(where: str, eid: str) -> None:
        if eid not in ents:
            raise ConfigError(f"{source}: {where}: unknown enterprise {eid!r}; "
                              f"known: {', '.join(ents)}")

    def product(where: str, eid: str, name: str) -> None:
        ent(where, eid)
        names = [o.product for o in ents[eid].output]
        if name not in names:
            raise ConfigError(f"{source}: {where}: enterprise {eid!r} has no output {name!r}; "
                              f"outputs: {', '.join(names) or 'none'}")

    for i, link in enumerate(inputs.products):
        product(f"products[{i}]", link.enterprise, link.product)
        if link.unit is not None and link.unit not in ix.units:
            raise ConfigError(f"{source}: products[{i}]: unknown unit {link.unit!r}")
        if link.level is not None:
            from management.reference import efficiency_level

            try:
                efficiency_level(link.level)
            except ConfigError as exc:
                raise ConfigError(f"{source}: products[{i}]: {exc}") from None
    for key in ("production", "plans"):
        for i, rec in enumerate(getattr(inputs, key)):
            product(f"{key}[{i}]", rec.enterprise, rec.product)
    ids: set[str] = set()
    for i, b in enumerate(inputs.budgets):
        if b.id in ids:
            raise ConfigError(f"{source}: budgets[{i}]: duplicate id {b.id!r}")
        ids.add(b.id)
        if b.scope not in ents and b.scope not in ix.units:
            raise ConfigError(f"{source}: budgets[{i}]: scope {b.scope!r} is neither an "
                              "enterprise nor a production unit")
        if b.product is not None:
            owner = b.scope if b.scope in ents else ix.unit_enterprise[b.scope]
            product(f"budgets[{i}]", owner, b.product)
    budgets = {b.id: b for b in inputs.budgets}
    for i, r in enumerate(inputs.reallocations):
        for end in (r.from_budget, r.to_budget):
            if end not in budgets:
                raise ConfigError(f"{source}: reallocations[{i}]: unknown budget {end!r}")
        a, b = budgets[r.from_budget], budgets[r.to_budget]
        if (a.period, a.metric) != (b.period, b.metric):
            raise ConfigError(f"{source}: reallocations[{i}]: budgets differ in period or metric")
    for i, al in enumerate(inputs.allocations):
        ent(f"allocations[{i}]", al.enterprise)
        if al.product is not None:
            product(f"allocations[{i}]", al.enterprise, al.product)
    for i, le in enumerate(inputs.ledger):
        ent(f"ledger[{i}]", le.enterprise)
    for i, bom in enumerate(inputs.boms):
        product(f"boms[{i}]", bom.enterprise, bom.product)
        for j, line in enumerate(bom.materials):
            try:
                parse_uom(line.uom)
            except ConfigError as exc:
                raise ConfigError(f"{source}: boms[{i}].materials[{j}].uom: {exc}") from None
    for i, gc in enumerate(inputs.green_certificates):
        ent(f"green_certificates[{i}]", gc.enterprise)
    for i, eq in enumerate(inputs.equipment):
        if eq.unit not in ix.units:
            raise ConfigError(f"{source}: equipment[{i}]: unknown unit {eq.unit!r}")
        if eq.output_point is not None and eq.output_point not in ix.points:
            raise ConfigError(f"{source}: equipment[{i}]: unknown point {eq.output_point!r}")
