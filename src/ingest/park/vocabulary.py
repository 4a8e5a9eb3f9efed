"""What a point's carrier and unit may be: the accounting library decides, this module asks it.

Energy carriers and energy/quantity units belong to ``accounting.carriers`` and
``accounting.units`` (the single source of truth). Gauge units (V, A, degC...) and the CEMS
species a stack may monitor are the park model's own vocabulary, in
``ingest/data/park_vocabulary.yaml``. Answers are cached per (carrier, kind, uom), so checking a
100,000-point park costs a few hundred distinct look-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class Species:
    """A CEMS species: its unit and, for pollutants and CO₂, how its mass is reported."""

    name: str
    uom: str
    description: str
    mass: str | None


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    text = (resources.files("ingest") / "data" / "park_vocabulary.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=yaml.CSafeLoader)
    return data


@lru_cache(maxsize=1)
def cems_species() -> dict[str, Species]:
    """Species a stack may monitor, by name (``co2``, ``so2``, ``flow``...)."""
    return {
        name: Species(name, str(e["uom"]), str(e.get("name", "")), e.get("mass"))
        for name, e in _vocabulary()["cems_species"].items()
    }


@lru_cache(maxsize=1)
def gauge_uoms() -> frozenset[str]:
    return frozenset(str(u) for u in _vocabulary()["gauge_uoms"])


def _accounting_check(carrier: str, uom: str) -> str | None:
    """The accounting library's verdict, or ``"unavailable"`` when it cannot be imported."""
    try:
        from accounting import units
        from accounting.carriers import get_carrier  # noqa: F401  (presence check)
    except ImportError:
        return "unavailable"
    try:
        units.check_uom(carrier, uom)
    except Exception as exc:  # its errors are ConfigErrors with a clear message
        return str(exc)
    return None


def _fallback_check(carrier: str, uom: str) -> str | None:
    voc = _vocabulary()
    if carrier not in voc["fallback_carriers"]:
        return f"unknown carrier {carrier!r}"
    if uom not in voc["fallback_uoms"] and uom not in voc["fallback_rate_uoms"]:
        return f"unknown unit {uom!r}"
    return None


@lru_cache(maxsize=4096)
def point_problem(kind: str, carrier: str | None, uom: str) -> str | None:
    """Why a point with this kind, carrier and unit is wrong, or ``None`` when it is fine.

    Counters need a quantity unit and rates a rate unit, both fitting the carrier; gauges take
    any gauge unit (or a carrier unit) and need no carrier.
    """
    if kind == "gauge":
        if uom in gauge_uoms() or uom in cems_species_uoms():
            return None
        if carrier is not None and _check(carrier, uom) is None:
            return None
        return f"unit {uom!r} is not a gauge unit ({', '.join(sorted(gauge_uoms()))})"
    if carrier is None:
        return f"a {kind} point needs a carrier"
    problem = _check(carrier, uom)
    if problem is not None:
        return problem
    rate = _is_rate(uom)
    if kind == "counter" and rate:
        return f"unit {uom!r} is a rate; a counter accumulates a quantity (kWh, t, Nm3...)"
    if kind == "rate" and not rate:
        return f"unit {uom!r} is a quantity; a rate point needs a rate unit (kW, t/h, Nm3/h...)"
    return None


def _check(carrier: str, uom: str) -> str | None:
    verdict = _accounting_check(carrier, uom)
    if verdict == "unavailable":
        return _fallback_check(carrier, uom)
    return verdict


def _is_rate(uom: str) -> bool:
    try:
        from accounting import units

        return bool(units.is_rate(uom))
    except ImportError:
        return uom in _vocabulary()["fallback_rate_uoms"]
    except Exception:
        return "/" in uom or uom in ("kW", "MW")


@lru_cache(maxsize=1)
def cems_species_uoms() -> frozenset[str]:
    return frozenset(s.uom for s in cems_species().values())
