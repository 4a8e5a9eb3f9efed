"""STIRPAT: ln I = ln a + b₁ ln X₁ + … fitted by ridge regression, the way park studies do it.

Natural logs of target and drivers; features centred but not rescaled; the intercept is not
penalised (it is recovered from the means); a driver that is constant over all rows carries no
information and is reported with coefficient 0. ``alpha`` = 0 is ordinary least squares.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nengtan.errors import ConfigError


@dataclass(frozen=True)
class StirpatFit:
    """Elasticities (coefficients on ln drivers), intercept (ln a), R² on the log scale."""

    coefficients: Mapping[str, float]
    intercept: float
    r2: float
    alpha: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"coefficients": dict(self.coefficients), "intercept": self.intercept,
                "r2": self.r2, "alpha": self.alpha, "n": self.n}


def fit(y: Sequence[float], x: Mapping[str, Sequence[float]], alpha: float = 0.0) -> StirpatFit:
    """Fit ln y on ln x (positive values only; ``ValueError`` otherwise)."""
    if alpha < 0:
        raise ValueError("alpha must be ≥ 0")
    names = list(x)
    y_arr = np.asarray(y, dtype=np.float64)
    x_arr = np.column_stack([np.asarray(x[n], dtype=np.float64) for n in names])
    if (y_arr <= 0).any() or (x_arr <= 0).any():
        raise ValueError("STIRPAT needs positive values (natural logs)")
    ly, lx = np.log(y_arr), np.log(x_arr)
    varying = np.ptp(lx, axis=0) > 0
    xc = lx[:, varying] - lx[:, varying].mean(axis=0)
    yc = ly - ly.mean()
    beta = np.zeros(len(names))
    if varying.any():
        gram = xc.T @ xc + alpha * np.eye(xc.shape[1])
        beta[varying] = np.linalg.lstsq(gram, xc.T @ yc, rcond=None)[0]
    intercept = float(ly.mean() - lx.mean(axis=0) @ beta)
    resid = ly - (intercept + lx @ beta)
    ss_tot = float(yc @ yc)
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 1.0
    return StirpatFit(dict(zip(names, (float(b) for b in beta), strict=True)), intercept, r2,
                      alpha, len(y_arr))


def fit_csv(path: Path, target: str, drivers: Sequence[str], alpha: float = 0.0) -> StirpatFit:
    """Fit from a CSV file with a header row; ``ConfigError`` names the file, row and column."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if not rows:
        raise ConfigError(f"{path}: no data rows")
    columns = [target, *drivers]
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise ConfigError(f"{path}: no column {missing[0]!r}; columns: {', '.join(rows[0])}")
    values: dict[str, list[float]] = {c: [] for c in columns}
    for i, row in enumerate(rows, start=2):
        for c in columns:
            try:
                v = float(row[c])
            except (TypeError, ValueError):
                raise ConfigError(f"{path}: row {i}, column {c!r}: not a number: {row[c]!r}") \
                    from None
            if v <= 0:
                raise ConfigError(f"{path}: row {i}, column {c!r}: {v} is not positive "
                                  "(STIRPAT takes natural logs)")
            values[c].append(v)
    if len(rows) < 2:
        raise ConfigError(f"{path}: need at least 2 rows")
    return fit(values[target], {d: values[d] for d in drivers}, alpha)
