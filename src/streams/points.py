"""The per-point table the workers build once from the park model and the accounting engine:
how to difference a point, where its consumption belongs, and its coefficients (kgce and CO₂e
per unit of quantity, with the id of the factor that produced them).

Coefficients are linear in the quantity, so the accounting engine's vectorised entry point
(``accounting.vector.build_table``) resolves them once per point and the worker only gathers and
multiplies arrays of minute quantities. Factors depend on the year (grid factors are yearly), so
one coefficient table is built per calendar year met in the data, on first use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from accounting.errors import AccountingInputError
from accounting.resolve import resolve
from accounting.settings import AccountingSettings
from accounting.units import integrated_uom
from accounting.vector import CoefficientTable, PointSpec, build_table
from ingest.park.models import Park
from ingest.park.profiles import DeviceProfile, load_profiles
from streams.counters import LONG_GAP_MS

log = logging.getLogger(__name__)
F64 = npt.NDArray[np.float64]

PLAUSIBLE_RATE_FACTOR = 20.0
"""A counter increment above this many times the point's nominal load (per hour) is flagged
as implausible, and a drop is taken as a rollover only when the wrapped increment stays below
it. The nominal load is the park file's ``load.nominal`` (the point's rated level)."""


@dataclass(frozen=True, slots=True)
class PointInfo:
    """Everything the stream needs to difference and place one metering point."""

    point: str
    enterprise: str
    kind: str
    """``counter``, ``rate`` or ``gauge``."""
    carrier: str
    uom: str
    quantity_uom: str
    """The uom of consumption records (the counter's uom; a rate's integral over hours)."""
    use: str | None = None
    region: str | None = None
    modulus: float | None = None
    max_rate_per_h: float | None = None
    tier: int = 1
    """Metering level: 1 enterprise, 2 workshop/line, 3 equipment (tertiary metering)."""
    inventory: bool = False
    """Counts toward the enterprise's emissions (see ``mark_inventory``); other points get
    consumption records only, so sub-meters and redundant rate signals are never added twice."""


@dataclass(frozen=True, slots=True)
class StackInfo:
    """A CEMS stack: its species are gauge points ``{stack}.{species}``."""

    stack: str
    enterprise: str
    species: tuple[str, ...]
    limits_mg_m3: dict[str, float] = field(default_factory=dict)


class RecordFields(NamedTuple):
    """The fields of a point's consumption and emission records that depend on the point and
    the year only (``PointTable.record_fields``)."""

    enterprise: str
    carrier: str
    uom: str
    emits: bool
    """An inventory point with coefficients and a scope: it gets emission records."""
    category: str
    scope: int
    gases_t_per_unit: dict[str, float]
    factor_id: str


@dataclass(slots=True)
class PointTable:
    """Points and stacks by id, and the accounting coefficients per year."""

    park: str
    points: dict[str, PointInfo]
    stacks: dict[str, StackInfo] = field(default_factory=dict)
    settings: AccountingSettings = field(default_factory=AccountingSettings)
    long_gap_ms: int | None = LONG_GAP_MS
    """A counter or rate step longer than this is booked as one interval record and raises a
    ``long_gap`` anomaly (``streams.counters.book_step``); None: always split by the minute."""
    cems_points: dict[str, tuple[str, str]] = field(init=False)
    """``{stack}.{species}`` point id -> (stack, species)."""
    unaccounted: dict[str, str] = field(init=False)
    """Points the accounting engine has no coefficients for, with its reason (logged at start;
    their consumption is recorded with kgce 0 and no emission record)."""
    _accounted: list[str] = field(init=False)
    _by_year: dict[int, CoefficientTable] = field(init=False)
    _fixed: dict[tuple[int, str], RecordFields] = field(init=False)

    def __post_init__(self) -> None:
        self.cems_points = {
            f"{s.stack}.{sp}": (s.stack, sp) for s in self.stacks.values() for sp in s.species
        }
        self._accounted = sorted(
            p for p, i in self.points.items() if i.kind != "gauge" and i.carrier and i.use
        )
        self._by_year = {}
        self._fixed = {}
        self.unaccounted = {}

    def record_fields(self, year: int, point: str, row: int) -> RecordFields:
        """What every consumption and emission record of a point in a year shares (its row in
        that year's coefficient table is ``row``), looked up once."""
        key = (year, point)
        fields = self._fixed.get(key)
        if fields is None:
            info = self.points[point]
            coef = self.coefficients(year)
            emits = info.inventory and row >= 0 and int(coef.scope[row]) != 0
            fields = self._fixed[key] = RecordFields(
                info.enterprise, info.carrier, info.quantity_uom, emits,
                coef.category(row) if emits else "", int(coef.scope[row]) if emits else 0,
                dict(coef.coefficients[row].gases_t_per_unit) if emits else {},
                coef.factor_id(row) if emits else "",
            )  # fmt: skip
        return fields

    def coefficients(self, year: int) -> CoefficientTable:
        """The accounting engine's coefficient table for one year (built on first use)."""
        table = self._by_year.get(year)
        if table is None:
            specs = [
                PointSpec(
                    point=p,
                    carrier=self.points[p].carrier,
                    uom=self.points[p].uom,
                    use=self.points[p].use or "",
                    year=year,
                    region=self.points[p].region,
                    enterprise=self.points[p].enterprise,
                )
                for p in self._accounted
            ]
            good = []
            for spec in specs:
                try:
                    resolve(spec.carrier, spec.uom, spec.use, year=year, region=spec.region,
                            settings=self.settings)  # fmt: skip
                except AccountingInputError as exc:
                    self.unaccounted[spec.point] = str(exc)
                    log.warning("point %s: no coefficients (%s); consumption only", spec.point, exc)
                    continue
                good.append(spec)
            table = self._by_year[year] = build_table(good, self.settings)
        return table

    def convert(
        self, year: int, point_ids: list[str], quantities: F64
    ) -> tuple[CoefficientTable, npt.NDArray[np.intp], F64, F64]:
        """kgce and CO₂e (t) of quantities of points, element-wise, with the table and the row
        indices (-1, and zeros, for points without coefficients)."""
        table = self.coefficients(year)
        idx = np.fromiter(
            (table.index.get(p, -1) for p in point_ids), dtype=np.intp, count=len(point_ids)
        )
        known = idx >= 0
        kgce = np.zeros(len(point_ids))
        co2e = np.zeros(len(point_ids))
        if known.all():
            kgce, co2e = table.apply(idx, quantities)
        elif known.any():
            kgce[known], co2e[known] = table.apply(idx[known], quantities[known])
        return table, idx, kgce, co2e


def year_of(ts_ms: int) -> int:
    """UTC calendar year of an instant (the year whose factors apply)."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).year


def build_point_table(
    park: Park,
    settings: AccountingSettings | None = None,
    profiles: dict[str, DeviceProfile] | None = None,
) -> PointTable:
    """The table of every point and stack in the park (once per worker)."""
    profiles = profiles if profiles is not None else load_profiles()
    ix = park.index
    points: dict[str, PointInfo] = {}
    stacks: dict[str, StackInfo] = {}
    for ent in park.enterprises:
        for pt in ent.points:
            if pt.kind == "gauge" or not pt.carrier:
                continue
            modulus = None
            if pt.device and pt.register and pt.device in ix.devices:
                binding = ix.devices[pt.device].modbus
                if binding is not None and binding.profile in profiles:
                    modulus = profiles[binding.profile].register(pt.register).modulus
            nominal = pt.load.nominal if pt.load is not None else None
            points[pt.id] = PointInfo(
                point=pt.id,
                enterprise=ent.id,
                kind=pt.kind,
                carrier=pt.carrier,
                uom=pt.uom,
                quantity_uom=integrated_uom(pt.uom),
                use=pt.use,
                region=ent.region or park.region or None,
                modulus=modulus,
                max_rate_per_h=None if not nominal else nominal * PLAUSIBLE_RATE_FACTOR,
                tier=pt.level or (ix.units[pt.unit].level if pt.unit in ix.units else 1),
            )
        for st in ent.stacks:
            stacks[st.id] = StackInfo(st.id, ent.id, tuple(st.species), dict(st.limits))
    return PointTable(park.id, mark_inventory(points), stacks, settings or AccountingSettings())


def mark_inventory(points: dict[str, PointInfo]) -> dict[str, PointInfo]:
    """Choose the points whose emissions make up each enterprise's inventory.

    Per enterprise, carrier and use: counters if there are any (counters are the truth), else
    rates; of those, the ones at the top-most metering level present (level 1 before 2 before
    3). A level-2 line meter under a level-1 incomer is thereby not added to it, and a kW signal
    beside a kWh register is not added to the register.
    """
    groups: dict[tuple[str, str, str | None], list[PointInfo]] = {}
    for info in points.values():
        groups.setdefault((info.enterprise, info.carrier, info.use), []).append(info)
    chosen: set[str] = set()
    for members in groups.values():
        counters = [m for m in members if m.kind == "counter"]
        pool = counters or [m for m in members if m.kind == "rate"]
        if pool:
            top = min(m.tier for m in pool)
            chosen.update(m.point for m in pool if m.tier == top)
    return {p: replace(i, inventory=p in chosen) for p, i in points.items()}
