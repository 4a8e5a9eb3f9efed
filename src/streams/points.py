"""The per-point table the workers build once from the park model and the accounting engine:
how to difference a point, where its consumption belongs, and its coefficients
(kgce and emissions per unit of quantity, with the id of the factor that produced them).

Coefficients are linear in the quantity, so the worker asks the accounting engine's vectorised
entry point once for one unit of every point and multiplies arrays of minute quantities by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

RATE_TO_QUANTITY_UOM: dict[str, str] = {
    "kW": "kWh",
    "MW": "MWh",
    "GJ/h": "GJ",
    "t/h": "t",
    "kg/h": "kg",
    "Nm3/h": "Nm3",
    "m3/h": "m3",
}
"""A rate point's uom and the uom of its integral over hours (rates are per hour)."""


@dataclass(frozen=True, slots=True)
class PointInfo:
    """Everything the stream needs to account one metering point."""

    point: str
    enterprise: str
    kind: str
    """``counter``, ``rate`` or ``gauge``."""
    carrier: str
    uom: str
    quantity_uom: str
    """The uom of consumption records (the counter's uom; a rate's integral)."""
    use: str | None = None
    modulus: float | None = None
    max_rate_per_h: float | None = None
    kgce_per_unit: float = 0.0
    co2e_t_per_unit: float = 0.0
    gases_t_per_unit: dict[str, float] = field(default_factory=dict)
    factor_id: str = ""
    category: str = ""
    scope: int = 1


@dataclass(frozen=True, slots=True)
class StackInfo:
    """A CEMS stack: its gauge points are ``{stack}.{species}``."""

    stack: str
    enterprise: str
    species: tuple[str, ...]
    limits_mg_m3: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class PointTable:
    """Points and stacks by id, with the coefficients as arrays for vectorised conversion."""

    park: str
    points: dict[str, PointInfo]
    stacks: dict[str, StackInfo] = field(default_factory=dict)
    index: dict[str, int] = field(init=False)
    kgce_per_unit: npt.NDArray[np.float64] = field(init=False)
    co2e_t_per_unit: npt.NDArray[np.float64] = field(init=False)
    cems_points: dict[str, tuple[str, str]] = field(init=False)
    """``{stack}.{species}`` point id -> (stack, species)."""

    def __post_init__(self) -> None:
        ids = sorted(self.points)
        self.index = {pid: i for i, pid in enumerate(ids)}
        self.kgce_per_unit = np.array([self.points[p].kgce_per_unit for p in ids], dtype=float)
        self.co2e_t_per_unit = np.array([self.points[p].co2e_t_per_unit for p in ids], dtype=float)
        self.cems_points = {
            f"{s.stack}.{sp}": (s.stack, sp) for s in self.stacks.values() for sp in s.species
        }

    def convert(
        self, point_ids: list[str], quantities: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """kgce and CO₂e (t) of quantities of the given points, element-wise."""
        idx = np.fromiter((self.index[p] for p in point_ids), dtype=np.intp, count=len(point_ids))
        return quantities * self.kgce_per_unit[idx], quantities * self.co2e_t_per_unit[idx]
