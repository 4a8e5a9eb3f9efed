"""Energy carriers as data: ids, names, dimension, default unit and GB/T 2589 coefficients.

``data/carriers.yaml`` is the single source of truth for carrier ids, shared with the park model
(which validates each metering point with :func:`get_carrier` and
:func:`accounting.units.check_uom`).
Every standard-coal coefficient is a versioned entry with provenance; the first version is the
default and another can be chosen per carrier (``AccountingSettings.kgce_versions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from accounting._data import load_yaml
from accounting.errors import UnknownCarrierError, UnknownFactorError
from accounting.provenance import Provenance, provenance_from
from accounting.units import DIMENSIONS, KGCE_PER_STANDARD_COAL_UOM, MJ_PER_KGCE, parse_uom

CarrierKind = Literal["fuel", "electricity", "onsite_power", "heat", "working_medium"]
KINDS: tuple[str, ...] = ("fuel", "electricity", "onsite_power", "heat", "working_medium")


@dataclass(frozen=True, slots=True)
class KgceCoefficient:
    """One version of a carrier's standard-coal coefficient: ``value`` kgce per ``per_uom``."""

    id: str
    value: float
    per_uom: str
    provenance: Provenance

    def kgce_per_base_unit(self) -> float:
        """kgce per base unit of the dimension (per kg, per Nm3, per m3 or per MJ)."""
        return self.value / parse_uom(self.per_uom).to_base


@dataclass(frozen=True, slots=True)
class Carrier:
    """An energy carrier (or energy-carrying working medium)."""

    id: str
    name_zh: str
    name_en: str
    kind: CarrierKind
    dimension: str
    default_uom: str
    kgce: tuple[KgceCoefficient, ...]
    group: str = "other_fuels"
    onsite_primary: bool = False

    def kgce_version(self, version_id: str | None = None) -> KgceCoefficient:
        """The coefficient version ``version_id``, or the default (first) one."""
        if version_id is None:
            return self.kgce[0]
        for coef in self.kgce:
            if coef.id == version_id:
                return coef
        raise UnknownFactorError(
            f"carrier {self.id!r} has no standard-coal coefficient {version_id!r}; "
            f"versions: {', '.join(c.id for c in self.kgce)}"
        )

    def mj_per_base_unit(self, version_id: str | None = None) -> float:
        """Energy content (MJ, equivalent value) of one base unit (kg, Nm3, m3; 1 for energy)."""
        return self.kgce_version(version_id).kgce_per_base_unit() * MJ_PER_KGCE


@lru_cache(maxsize=1)
def _registry() -> dict[str, Carrier]:
    data = load_yaml("carriers.yaml")
    registry: dict[str, Carrier] = {}
    for entry in data["carriers"]:
        cid = str(entry["id"])
        where = f"carriers.yaml: {cid}"
        if cid in registry:
            raise ValueError(f"{where}: duplicate id")
        if entry["kind"] not in KINDS:
            raise ValueError(f"{where}: kind {entry['kind']!r} not in {KINDS}")
        if entry["dimension"] not in DIMENSIONS:
            raise ValueError(f"{where}: dimension {entry['dimension']!r} not in {DIMENSIONS}")
        coefs = []
        for k in entry["kgce"]:
            per = parse_uom(str(k["per"]))
            if per.dimension not in (entry["dimension"], "energy") or per.is_rate:
                raise ValueError(f"{where}: {k['id']}: 'per' unit {per.symbol!r} does not fit")
            coefs.append(
                KgceCoefficient(str(k["id"]), float(k["value"]), per.symbol,
                                provenance_from(k, f"{where}: {k['id']}"))
            )
        if not coefs:
            raise ValueError(f"{where}: no kgce coefficient")
        default_uom = parse_uom(str(entry["default_uom"]))
        if default_uom.dimension not in (entry["dimension"], "energy"):
            raise ValueError(f"{where}: default_uom {default_uom.symbol!r} does not fit")
        registry[cid] = Carrier(
            id=cid,
            name_zh=str(entry["zh"]),
            name_en=str(entry["en"]),
            kind=entry["kind"],
            dimension=str(entry["dimension"]),
            default_uom=default_uom.symbol,
            kgce=tuple(coefs),
            group=str(entry["group"]),
            onsite_primary=bool(entry.get("onsite_primary", False)),
        )
    return registry


def load_carriers() -> dict[str, Carrier]:
    """All carriers by id (a fresh dict; the carriers themselves are immutable)."""
    return dict(_registry())


def carrier_ids() -> tuple[str, ...]:
    """Every carrier id, in data-file order."""
    return tuple(_registry())


def get_carrier(carrier_id: str) -> Carrier:
    """The carrier ``carrier_id``; raises ``UnknownCarrierError`` (a ``ConfigError``) naming it."""
    try:
        return _registry()[carrier_id]
    except (KeyError, TypeError):
        raise UnknownCarrierError(
            f"unknown carrier {carrier_id!r}; known carriers: {', '.join(_registry())}"
        ) from None


def is_carrier(carrier_id: str) -> bool:
    """Whether ``carrier_id`` is a known carrier."""
    return carrier_id in _registry()


def kgce_per_unit(carrier_id: str, uom: str, version_id: str | None = None) -> float:
    """Standard-coal equivalent (kgce, equivalent value) of one ``uom`` of the carrier.

    ``uom`` may be a unit of the carrier's dimension (the published coefficient applies: 1 kWh
    of electricity -> 0.1229, 1 GJ of heat -> 34.12) or, for a fuel, any energy unit (its energy
    content at 29.3076 MJ/kgce); ``kgce``/``tce`` are taken as they are. Raises
    ``UomMismatchError`` when it does not fit.
    """
    from accounting.units import check_uom

    carrier = get_carrier(carrier_id)
    unit = check_uom(carrier_id, uom, allow_rate=False)
    if unit.symbol in KGCE_PER_STANDARD_COAL_UOM:
        return KGCE_PER_STANDARD_COAL_UOM[unit.symbol]
    if unit.dimension == "energy" and carrier.dimension != "energy":
        # an energy content of a fuel or medium: 1 kgce = 29.3076 MJ
        return unit.to_base / MJ_PER_KGCE
    # the carrier's own dimension (electricity and heat are energy): the published coefficient,
    # so 1 kWh of electricity is 0.1229 kgce exactly, not 3.6 / 29.3076
    return unit.to_base * carrier.kgce_version(version_id).kgce_per_base_unit()
