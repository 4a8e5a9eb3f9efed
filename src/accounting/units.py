"""Units of measure: parse the strings every package uses, convert, and check them against carriers.

The unit table lives in ``data/units.yaml``. Conversions inside one dimension (energy, mass,
standard gas volume, actual volume) are ratios of ``to_base``; a conversion between a carrier's
physical unit and an energy unit goes through the carrier's GB/T 2589 coefficient (1 kgce =
29.3076 MJ), so ``convert(1, "1e4 Nm3", "tce", carrier="natural_gas")`` is 13.3 tce.

Hot paths call :func:`factor` once and multiply floats or numpy arrays; ``convert`` accepts both.
Rates (``t/h``, ``kW`` ...) are integrated by the stream processors (:func:`integrated_uom` says
into which unit) before anything here converts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import numpy as np

from accounting._data import load_yaml
from accounting.errors import UnknownUnitError, UomMismatchError

ENERGY = "energy"
DIMENSIONS: tuple[str, ...] = ("energy", "mass", "gas_volume", "volume")
MJ_PER_KGCE = 29.3076
KGCE_PER_STANDARD_COAL_UOM: dict[str, float] = {"kgce": 1.0, "tce": 1000.0}
"""Standard-coal units count as they are (exact, not via MJ)."""
"""GB/T 2589: 1 kgce = 29 307.6 kJ; also in ``units.yaml`` as the ``kgce`` entry."""

Q = TypeVar("Q", float, np.ndarray)


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of measure: its dimension, its size in the dimension's base unit, or its rate."""

    symbol: str
    dimension: str
    to_base: float
    rate_of: str | None = None

    @property
    def is_rate(self) -> bool:
        """True for t/h, Nm3/h, kW ...: values must be integrated over time before accounting."""
        return self.rate_of is not None


@lru_cache(maxsize=1)
def _table() -> dict[str, Unit]:
    data = load_yaml("units.yaml")
    table: dict[str, Unit] = {}
    aliases: dict[str, str] = {}
    for entry in data["units"]:
        symbol = str(entry["symbol"])
        dim = str(entry["dimension"])
        if dim not in DIMENSIONS:
            raise ValueError(f"units.yaml: {symbol}: unknown dimension {dim!r}")
        table[symbol] = Unit(symbol, dim, float(entry.get("to_base", 0.0)), entry.get("rate_of"))
        for alias in entry.get("aliases", []) or []:
            aliases[str(alias)] = symbol
    for alias, symbol in aliases.items():
        table.setdefault(alias, table[symbol])
    return table


def _normalise(uom: str) -> str:
    return " ".join(uom.strip().split())


def known_uoms(include_rates: bool = True) -> tuple[str, ...]:
    """Canonical unit symbols, quantities first."""
    units = {u.symbol: u for u in _table().values()}
    return tuple(s for s, u in units.items() if include_rates or not u.is_rate)


def parse_uom(uom: str) -> Unit:
    """The :class:`Unit` for a unit string (aliases such as ``1e4Nm3`` or ``kwh`` accepted)."""
    table = _table()
    unit = None
    if isinstance(uom, str):
        key = _normalise(uom)
        unit = table.get(key) or table.get(key.replace(" ", ""))
    if unit is None:
        raise UnknownUnitError(
            f"unknown unit {uom!r}; known units: {', '.join(known_uoms())}"
        )
    return unit


def canonical_uom(uom: str) -> str:
    """The canonical spelling of a unit string (``1e4Nm3`` -> ``1e4 Nm3``)."""
    return parse_uom(uom).symbol


def is_rate(uom: str) -> bool:
    """Whether ``uom`` is a rate (t/h, Nm3/h, kW, MW, GJ/h ...)."""
    return parse_uom(uom).is_rate


def integrated_uom(uom: str) -> str:
    """The quantity unit a rate integrates to over hours (``t/h`` -> ``t``, ``kW`` -> ``kWh``);
    a quantity unit is returned unchanged (canonical spelling)."""
    unit = parse_uom(uom)
    return unit.rate_of if unit.rate_of is not None else unit.symbol


def dimension_of(uom: str) -> str:
    """The dimension of a unit (a rate has the dimension of what it integrates to)."""
    return parse_uom(uom).dimension


def factor(from_uom: str, to_uom: str, carrier: str | None = None) -> float:
    """Multiplier taking a quantity in ``from_uom`` to ``to_uom``.

    Same dimension: a ratio of unit sizes. Between a carrier's physical dimension and energy: via
    the carrier's default standard-coal coefficient (pass ``carrier``). Rates are refused: integrate
    them first.
    """
    src, dst = parse_uom(from_uom), parse_uom(to_uom)
    for unit in (src, dst):
        if unit.is_rate:
            raise UomMismatchError(
                f"{unit.symbol!r} is a rate; integrate it to {unit.rate_of!r} before converting"
            )
    if src.dimension == dst.dimension:
        return src.to_base / dst.to_base
    if carrier is None:
        raise UomMismatchError(
            f"cannot convert {src.symbol!r} ({src.dimension}) to {dst.symbol!r} ({dst.dimension}) "
            "without a carrier"
        )
    from accounting.carriers import get_carrier  # local: carriers imports units

    c = get_carrier(carrier)
    mj_per_base = c.mj_per_base_unit()
    if src.dimension == c.dimension and dst.dimension == ENERGY:
        return src.to_base * mj_per_base / dst.to_base
    if src.dimension == ENERGY and dst.dimension == c.dimension:
        return src.to_base / mj_per_base / dst.to_base
    raise UomMismatchError(
        f"cannot convert {src.symbol!r} to {dst.symbol!r} for carrier {carrier!r} "
        f"(measured as {c.dimension} or energy)"
    )


def convert(value: Q, from_uom: str, to_uom: str, carrier: str | None = None) -> Q:
    """``value`` (a float or a numpy array) in ``from_uom`` expressed in ``to_uom``."""
    return value * factor(from_uom, to_uom, carrier)


def fits(carrier: str, uom: str) -> bool:
    """Whether a quantity (or a rate) of ``carrier`` may be given in ``uom``."""
    try:
        check_uom(carrier, uom)
    except (UomMismatchError, UnknownUnitError):
        return False
    return True


def check_uom(carrier: str, uom: str, *, allow_rate: bool = True) -> Unit:
    """Validate that ``uom`` fits ``carrier``; return the parsed unit or raise a clear error.

    A unit fits when its dimension is the carrier's (``t`` of diesel, ``Nm3`` of natural gas) or
    is energy (``GJ`` of natural gas, ``tce`` of anything). Raises ``UnknownCarrierError``,
    ``UnknownUnitError`` or ``UomMismatchError`` (all ``ConfigError``).
    """
    from accounting.carriers import get_carrier

    c = get_carrier(carrier)
    unit = parse_uom(uom)
    if unit.is_rate and not allow_rate:
        raise UomMismatchError(
            f"unit {unit.symbol!r} is a rate; a quantity of {carrier} is wanted "
            f"(e.g. {unit.rate_of!r})"
        )
    if unit.dimension not in (c.dimension, ENERGY):
        wanted = ", ".join(
            s for s in known_uoms(include_rates=allow_rate)
            if parse_uom(s).dimension in (c.dimension, ENERGY)
        )
        raise UomMismatchError(
            f"unit {unit.symbol!r} ({unit.dimension}) does not fit carrier {carrier!r}, which is "
            f"measured as {c.dimension}; use one of: {wanted}"
        )
    return unit
