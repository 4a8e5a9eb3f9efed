"""The vectorised entry point for the stream processors.

Once per worker, :func:`build_table` turns per-point specs (point id, carrier, uom, use, region,
year) into numpy arrays of per-point coefficients; per window the streams only gather and
multiply: :meth:`CoefficientTable.apply` on arrays of (point index, quantity). All the factor
logic lives in ``accounting.resolve``, so streamed and hand-entered accounting agree exactly.

Quantities are in the point's unit; for a rate point (t/h, kW ...) in the unit it integrates to
(t, kWh ...): the streams integrate rates before calling this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accounting.errors import AccountingInputError
from accounting.factors import FactorLibrary, default_library
from accounting.resolve import CATEGORIES, NO_OVERRIDES, Coefficients, Overrides, resolve
from accounting.settings import AccountingSettings

F64 = NDArray[np.float64]
IDX = NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class PointSpec:
    """What the accounting needs to know about one metering point.

    ``use`` is fuel | feedstock | purchased | generated | exported (| process for a gas or
    material point); ``region`` a province or grid-region id of the enterprise.
    """

    point: str
    carrier: str
    uom: str
    use: str
    year: int
    region: str | None = None
    enterprise: str = ""
    category: str | None = None
    overrides: Overrides = field(default=NO_OVERRIDES)


@dataclass(frozen=True)
class CoefficientTable:
    """Per-point coefficients as parallel numpy arrays (row i = ``points[i]``).

    ``scope``: 0 none, 1, 2. ``category_code`` indexes ``CATEGORIES``; ``factor_code`` indexes
    ``factor_ids`` (the emission factor each row used; ``kgce_factor_ids`` likewise per row).
    """

    points: tuple[str, ...]
    specs: tuple[PointSpec, ...]
    kgce_per_unit: F64
    co2e_t_per_unit: F64
    scope: NDArray[np.int8]
    category_code: NDArray[np.int16]
    factor_code: NDArray[np.int32]
    factor_ids: tuple[str, ...]
    kgce_factor_ids: tuple[str | None, ...]
    coefficients: tuple[Coefficients, ...]
    index: Mapping[str, int]

    categories: tuple[str, ...] = CATEGORIES

    def __len__(self) -> int:
        return len(self.points)

    def indices(self, points: Sequence[str]) -> IDX:
        """Row indices of point ids (once per batch or per key, not per reading)."""
        try:
            return np.fromiter((self.index[p] for p in points), dtype=np.intp, count=len(points))
        except KeyError as exc:
            raise AccountingInputError(f"point {exc.args[0]!r} is not in the table") from None

    def apply(
        self, idx: IDX, quantity: F64, out_kgce: F64 | None = None, out_co2e_t: F64 | None = None,
    ) -> tuple[F64, F64]:
        """kgce and tCO2e of each (point index, quantity): two gathers and two multiplies."""
        kgce = np.take(self.kgce_per_unit, idx, out=out_kgce)
        np.multiply(kgce, quantity, out=kgce)
        co2e = np.take(self.co2e_t_per_unit, idx, out=out_co2e_t)
        np.multiply(co2e, quantity, out=co2e)
        return kgce, co2e

    def totals(self, idx: IDX, quantity: F64) -> tuple[F64, F64, F64]:
        """Per-point sums over a window: (quantity, kgce, tCO2e), each of length ``len(self)``."""
        n = len(self.points)
        q = np.bincount(idx, weights=quantity, minlength=n).astype(np.float64, copy=False)
        return q, q * self.kgce_per_unit, q * self.co2e_t_per_unit

    def category(self, row: int) -> str:
        """Category name of a row."""
        return self.categories[int(self.category_code[row])]

    def factor_id(self, row: int) -> str:
        """The emission factor id a row used (for the ``factor_id`` of emission records)."""
        return self.factor_ids[int(self.factor_code[row])]

    def describe(self, row: int) -> dict[str, Any]:
        """Everything about one row, for logs and audits."""
        spec, coef = self.specs[row], self.coefficients[row]
        return {"point": spec.point, "carrier": spec.carrier, "uom": spec.uom, "use": spec.use,
                "kgce_per_unit": coef.kgce_per_unit, "co2e_t_per_unit": coef.co2e_t_per_unit,
                "scope": coef.scope, "category": coef.category, "factor_id": coef.factor_id,
                "kgce_factor_id": coef.kgce_factor_id}


def build_table(
    specs: Iterable[PointSpec],
    settings: AccountingSettings | None = None,
    library: FactorLibrary | None = None,
) -> CoefficientTable:
    """Resolve every point's coefficients once. Raises ``AccountingInputError`` naming the point
    whose carrier, unit or use does not fit."""
    settings = settings or AccountingSettings()
    library = library or default_library()
    spec_list = list(specs)
    coefs: list[Coefficients] = []
    index: dict[str, int] = {}
    for i, spec in enumerate(spec_list):
        if spec.point in index:
            raise AccountingInputError(f"point {spec.point!r} is listed twice")
        index[spec.point] = i
        try:
            coefs.append(resolve(
                spec.carrier, spec.uom, spec.use, year=spec.year, region=spec.region,
                category=spec.category, overrides=spec.overrides, settings=settings,
                library=library,
            ))
        except AccountingInputError as exc:
            raise type(exc)(f"point {spec.point!r}: {exc}") from None
    factor_ids = tuple(dict.fromkeys(c.factor_id for c in coefs))
    fcode = {f: i for i, f in enumerate(factor_ids)}
    return CoefficientTable(
        points=tuple(s.point for s in spec_list),
        specs=tuple(spec_list),
        kgce_per_unit=np.array([c.kgce_per_unit for c in coefs], dtype=np.float64),
        co2e_t_per_unit=np.array([c.co2e_t_per_unit for c in coefs], dtype=np.float64),
        scope=np.array([c.scope for c in coefs], dtype=np.int8),
        category_code=np.array([CATEGORIES.index(c.category) for c in coefs], dtype=np.int16),
        factor_code=np.array([fcode[c.factor_id] for c in coefs], dtype=np.int32),
        factor_ids=factor_ids,
        kgce_factor_ids=tuple(c.kgce_factor_id for c in coefs),
        coefficients=tuple(coefs),
        index=index,
    )
