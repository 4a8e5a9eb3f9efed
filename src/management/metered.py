"""Metered energy of a scope (enterprise or production unit) over days, in kgce and tCO₂e.

Quantities are daily totals per metering point in the point's quantity unit (a counter's own
unit; a rate's integral), as the store's ``consumption_daily`` rollup holds them. Conversion
and emissions use the very table the stream workers use (``streams.points.build_point_table``
over ``accounting.vector``), so management figures equal the pipeline's. Which points make up a
scope follows the same rule as the inventory (``streams.points.mark_inventory``): per carrier
and use, counters before rates, the top-most metering level present — a level-2 line meter is
never added to the level-1 incomer above it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from accounting.carriers import get_carrier, is_carrier
from accounting.settings import AccountingSettings
from ingest.park.models import Park
from nengtan.errors import ConfigError
from streams.points import PointTable, build_point_table, mark_inventory


@dataclass
class Metered:
    """Daily quantities: point -> day -> quantity (the point's quantity uom)."""

    daily: dict[str, dict[date, float]] = field(default_factory=dict)

    def add(self, point: str, day: date, quantity: float) -> None:
        per = self.daily.setdefault(point, {})
        per[day] = per.get(day, 0.0) + quantity

    def total(self, point: str, first: date, last: date) -> float:
        return sum(q for d, q in self.daily.get(point, {}).items() if first <= d <= last)

    def last_day(self) -> date | None:
        days = [d for per in self.daily.values() for d in per]
        return max(days) if days else None

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, date, float]]) -> Metered:
        m = cls()
        for point, day, q in rows:
            m.add(point, day, float(q))
        return m

    @classmethod
    def from_csv(cls, path: Path) -> Metered:
        """A CSV with header ``point,date,quantity`` (date YYYY-MM-DD, UTC day)."""
        m = cls()
        try:
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                missing = {"point", "date", "quantity"} - set(reader.fieldnames or [])
                if missing:
                    raise ConfigError(f"{path}: missing column(s) {sorted(missing)}")
                for i, row in enumerate(reader, start=2):
                    try:
                        m.add(row["point"], date.fromisoformat(row["date"]),
                              float(row["quantity"]))
                    except (TypeError, ValueError) as exc:
                        raise ConfigError(f"{path}: row {i}: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        return m


@dataclass(frozen=True, slots=True)
class PointTotal:
    """One point's contribution to a scope over a range of days."""

    point: str
    carrier: str
    use: str
    group: str | None
    quantity: float
    uom: str
    kgce: float
    co2e_t: float
    factor_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"point": self.point, "carrier": self.carrier, "use": self.use,
                "group": self.group, "quantity": self.quantity, "uom": self.uom,
                "kgce": self.kgce, "co2e_t": self.co2e_t, "factor_id": self.factor_id}


@dataclass(frozen=True, slots=True)
class ScopeEnergy:
    """Totals of a scope over a range of days."""

    scope: str
    first: date
    last: date
    lines: tuple[PointTotal, ...]

    @property
    def energy_tce(self) -> float:
        return sum(ln.kgce for ln in self.lines) / 1000.0

    @property
    def kgce(self) -> float:
        return sum(ln.kgce for ln in self.lines)

    @property
    def co2e_t(self) -> float:
        return sum(ln.co2e_t for ln in self.lines)

    def metric(self, name: str) -> float:
        return self.energy_tce if name == "energy_tce" else self.co2e_t

    def tce_by_group(self) -> list[tuple[str, float]]:
        """Gross energy by carrier group (exports left out), for the energy structure."""
        return [(ln.group, ln.kgce / 1000.0) for ln in self.lines
                if ln.group is not None and ln.use != "exported" and ln.kgce > 0]

    def carrier_quantity(self, carrier: str, use: str, uom: str) -> float:
        return sum(ln.quantity for ln in self.lines
                   if ln.carrier == carrier and ln.use == use and ln.uom == uom)


class EnergyModel:
    """The park's points placed in scopes, with the stream workers' coefficients."""

    def __init__(self, park: Park, settings: AccountingSettings | None = None) -> None:
        self.park = park
        self.table: PointTable = build_point_table(park, settings)
        self._scope_points: dict[str, tuple[str, ...]] = {}

    def enterprise_of(self, scope: str) -> str:
        ix = self.park.index
        if scope in ix.enterprises:
            return scope
        if scope in ix.unit_enterprise:
            return ix.unit_enterprise[scope]
        raise ConfigError(f"unknown scope {scope!r}: neither an enterprise nor a unit")

    def _subtree(self, unit: str) -> set[str]:
        units = self.park.index.units
        out = {unit}
        grew = True
        while grew:
            grew = False
            for u in units.values():
                if u.parent in out and u.id not in out:
                    out.add(u.id)
                    grew = True
        return out

    def points_of(self, scope: str) -> tuple[str, ...]:
        """The points whose consumption makes up the scope (no double counting)."""
        if scope in self._scope_points:
            return self._scope_points[scope]
        ent = self.enterprise_of(scope)
        infos = {p: i for p, i in self.table.points.items() if i.enterprise == ent and i.use}
        if scope == ent:
            chosen = tuple(sorted(p for p, i in infos.items() if i.inventory))
        else:
            units = self._subtree(scope)
            pts = self.park.index.points
            sub = {p: i for p, i in infos.items() if pts[p].unit in units}
            chosen = tuple(sorted(p for p, i in mark_inventory(sub).items() if i.inventory))
        self._scope_points[scope] = chosen
        return chosen

    def energy(self, scope: str, metered: Metered, first: date, last: date) -> ScopeEnergy:
        """kgce and tCO₂e of the scope over ``[first, last]`` (factors of ``first``'s year)."""
        points = self.points_of(scope)
        return ScopeEnergy(scope, first, last, tuple(self._lines(
            points, {p: metered.total(p, first, last) for p in points}, first.year)))

    def _lines(self, points: Iterable[str], qty: Mapping[str, float],
               year: int) -> list[PointTotal]:  # fmt: skip
        table = self.table.coefficients(year)
        out = []
        for p in points:
            info = self.table.points[p]
            q = qty.get(p, 0.0)
            group = get_carrier(info.carrier).group if is_carrier(info.carrier) else None
            if p in table.index:
                row = table.index[p]
                kgce, co2e = table.apply(np.array([row]), np.array([q]))
                out.append(PointTotal(p, info.carrier, info.use or "", group, q,
                                      info.quantity_uom, float(kgce[0]), float(co2e[0]),
                                      table.factor_id(row)))
            # else: no coefficients (e.g. steam generated on site, already counted as the
            # fuel that raised it); the point table reports why, and it is not consumption
        return out

    def point_quantity(self, point: str, metered: Metered, first: date, last: date) -> float:
        if point not in self.park.index.points:
            raise ConfigError(f"unknown point {point!r}")
        return metered.total(point, first, last)


def has_data(metered: Metered, points: Iterable[str], first: date, last: date) -> bool:
    """Whether any of the points has a daily value in ``[first, last]``."""
    return any(first <= d <= last for p in points for d in metered.daily.get(p, {}))
