"""The simulators' reference data (``simulators/data/simulation.yaml``): load shapes, CEMS
decimals and baselines, value decimals. Read once; code never hard-wires these numbers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Reference:
    """Parsed ``simulation.yaml``."""

    tz_offset_h: float
    shape_names: tuple[str, ...]
    shapes: npt.NDArray[np.float64]  # (n_shapes, 48): 24 weekday hours then 24 weekend hours
    cems_decimals: dict[str, int]
    cems_default_baseline: dict[str, float]
    cems_pollutants: tuple[str, ...]
    decimals: dict[str, int]

    def shape_index(self, name: str) -> int:
        """Row of a named load shape; ``KeyError`` names the known ones."""
        try:
            return self.shape_names.index(name)
        except ValueError:
            raise KeyError(
                f"unknown load shape {name!r} (known: {', '.join(self.shape_names)})"
            ) from None

    def shape_column(self, t_ms: int) -> int:
        """Column of ``shapes`` for UTC instant ``t_ms`` (local hour, weekday or weekend)."""
        local_ms = t_ms + int(self.tz_offset_h * HOUR_MS)
        day = local_ms // DAY_MS
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        hour = (local_ms // HOUR_MS) % 24
        return int(hour + (24 if weekday >= 5 else 0))


@lru_cache(maxsize=1)
def reference() -> Reference:
    """The bundled simulation reference data."""
    text = (resources.files("simulators") / "data" / "simulation.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    names = tuple(data["load_shapes"])
    rows = []
    for name in names:
        entry = data["load_shapes"][name]
        row = [float(v) for v in entry["weekday"]] + [float(v) for v in entry["weekend"]]
        if len(row) != 48:
            raise ValueError(f"simulation.yaml: load_shapes.{name}: need 24 + 24 values")
        rows.append(row)
    cems = data["cems"]
    return Reference(
        tz_offset_h=float(data["tz_offset_h"]),
        shape_names=names,
        shapes=np.asarray(rows, dtype=np.float64),
        cems_decimals={k: int(v) for k, v in cems["decimals"].items()},
        cems_default_baseline={k: float(v) for k, v in cems["default_baseline"].items()},
        cems_pollutants=tuple(cems["pollutants"]),
        decimals={k: int(v) for k, v in data["decimals"].items()},
    )
