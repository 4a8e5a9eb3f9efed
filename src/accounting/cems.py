"""CEMS measured emissions: hourly mass from minute concentration and dry standard flow.

The rules (shared with the simulators and the streams, see ``docs/accounting.md``):

- concentrations are dry, at standard state; CO2 in % (v/v), other pollutants in mg/m3; the
  flow is the dry standard flow Q (Nm3/h);
- minute CO2 mass (t) = C% / 100 × Q / 60 × 1.9643 / 1000 (1.9643 kg/Nm3 = 44/22.4);
  pollutant minute mass (kg) = C (mg/m3) × Q / 60 × 1e-6;
- a minute is valid when its flag is ``N``; an hour with n_valid ≥ 45 valid minutes has mass
  Σ valid minute masses × 60 / n_valid (the plain sum when all 60 are valid), otherwise it is
  invalid and substitution applies (HJ 75-2017 style: a gap ≤ 24 h takes the mean of the valid
  hours either side, a longer one the maximum of the preceding 720 valid hours);
- the pollutant hourly average is the mean of the valid minutes.

All functions are pure and take floats or numpy arrays; the thresholds are ``CemsSettings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

F64 = NDArray[np.float64]
MS_PER_HOUR = 3_600_000
STANDARD_T_K = 273.15
STANDARD_P_PA = 101_325.0


class CemsSettings(BaseModel):
    """Validity and substitution rules of CEMS data (defaults: HJ 75-2017 as read secondhand)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_valid_minutes: int = Field(45, ge=1, le=60, description="valid minutes for a valid hour")
    minutes_per_hour: int = Field(60, ge=1, description="minutes an hour's mass is scaled to")
    valid_flags: tuple[str, ...] = Field(("N",), description="minute flags that count as valid")
    short_gap_max_hours: int = Field(
        24, ge=0, description="gaps up to this many hours: mean of the valid hours either side"
    )
    long_gap_lookback_valid_hours: int = Field(
        720, ge=1, description="longer gaps: maximum of this many preceding valid hours"
    )
    co2_density_kg_per_nm3: float = Field(
        1.9643, gt=0, description="CO2 density at 273.15 K, 101.325 kPa (44/22.4, rounded)"
    )


DEFAULT_SETTINGS = CemsSettings()


def co2_minute_mass_t(
    co2_pct: ArrayLike, q_dry_nm3_h: ArrayLike, settings: CemsSettings = DEFAULT_SETTINGS
) -> Any:
    """CO2 mass of one minute (t): C% / 100 × Q / 60 × 1.9643 / 1000."""
    c = np.asarray(co2_pct, dtype=np.float64)
    q = np.asarray(q_dry_nm3_h, dtype=np.float64)
    return c / 100.0 * q / 60.0 * settings.co2_density_kg_per_nm3 / 1000.0


def pollutant_minute_mass_kg(c_mg_m3: ArrayLike, q_dry_nm3_h: ArrayLike) -> Any:
    """Pollutant mass of one minute (kg): C (mg/m3) × Q / 60 × 1e-6."""
    c = np.asarray(c_mg_m3, dtype=np.float64)
    q = np.asarray(q_dry_nm3_h, dtype=np.float64)
    return c * q / 60.0 * 1e-6


def valid_minutes(flags: ArrayLike, settings: CemsSettings = DEFAULT_SETTINGS) -> NDArray[np.bool_]:
    """Boolean mask of valid minutes from their flags (``N`` by default)."""
    return np.isin(np.asarray(flags), list(settings.valid_flags))


@dataclass(frozen=True)
class Hourly:
    """Hourly results: ``value`` is NaN for an invalid hour (to be substituted)."""

    value: F64
    n_valid: NDArray[np.int64]
    valid: NDArray[np.bool_]


def hourly_mass(
    minute_mass: ArrayLike, valid: ArrayLike, settings: CemsSettings = DEFAULT_SETTINGS
) -> Hourly:
    """Hourly mass from minute masses along the last axis (…, minutes): Σ valid × 60 / n_valid
    when n_valid ≥ ``min_valid_minutes``, NaN otherwise."""
    m = np.asarray(minute_mass, dtype=np.float64)
    v = np.asarray(valid, dtype=bool)
    n = v.sum(axis=-1).astype(np.int64)
    total = np.where(v, m, 0.0).sum(axis=-1)
    return _scale(total, n, settings)


def hourly_mass_by_ts(
    ts_ms: ArrayLike, minute_mass: ArrayLike, valid: ArrayLike,
    settings: CemsSettings = DEFAULT_SETTINGS,
) -> tuple[NDArray[np.int64], Hourly]:
    """Hourly mass of minutes given by timestamp (any order, gaps allowed): returns the hour
    starts (epoch ms, ascending) and the hourly results. Duplicated minutes must be removed by
    the caller."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    m = np.asarray(minute_mass, dtype=np.float64)
    v = np.asarray(valid, dtype=bool)
    hours, inverse = np.unique(ts // MS_PER_HOUR, return_inverse=True)
    total = np.bincount(inverse, weights=np.where(v, m, 0.0), minlength=len(hours))
    n = np.bincount(inverse, weights=v.astype(np.int64), minlength=len(hours)).astype(np.int64)
    return hours * MS_PER_HOUR, _scale(total, n, settings)


def _scale(total: Any, n: Any, settings: CemsSettings) -> Hourly:
    ok = n >= settings.min_valid_minutes
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(ok, total * settings.minutes_per_hour / np.maximum(n, 1), np.nan)
    return Hourly(np.asarray(value, dtype=np.float64), np.asarray(n), np.asarray(ok))


def hourly_mean(
    conc: ArrayLike, valid: ArrayLike, settings: CemsSettings = DEFAULT_SETTINGS
) -> Hourly:
    """Hourly average concentration along the last axis: the mean of the valid minutes (NaN
    when none); ``valid`` marks hours with at least ``min_valid_minutes``."""
    c = np.asarray(conc, dtype=np.float64)
    v = np.asarray(valid, dtype=bool)
    n = v.sum(axis=-1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, np.where(v, c, 0.0).sum(axis=-1) / np.maximum(n, 1), np.nan)
    return Hourly(np.asarray(mean, dtype=np.float64), n, n >= settings.min_valid_minutes)


def substitute_hours(
    values: ArrayLike, valid: ArrayLike, settings: CemsSettings = DEFAULT_SETTINGS
) -> tuple[F64, NDArray[np.int8]]:
    """Fill invalid hours of a consecutive hourly series.

    A run of invalid hours no longer than ``short_gap_max_hours`` takes the mean of the valid
    hour before and the valid hour after it (only one side: that side's value); a longer run
    takes the maximum of the preceding ``long_gap_lookback_valid_hours`` valid hours. Returns
    the filled series and a code per hour: 0 measured, 1 short-gap mean, 2 long-gap maximum,
    -1 nothing to substitute from (value stays NaN).
    """
    x = np.array(values, dtype=np.float64)
    ok = np.asarray(valid, dtype=bool)
    code = np.zeros(len(x), dtype=np.int8)
    valid_pos = np.flatnonzero(ok)
    i = 0
    while i < len(x):
        if ok[i]:
            i += 1
            continue
        j = i
        while j < len(x) and not ok[j]:
            j += 1
        before = x[i - 1] if i > 0 else None  # ok[i-1] holds by construction
        after = x[j] if j < len(x) else None
        if j - i <= settings.short_gap_max_hours:
            sides = [s for s in (before, after) if s is not None]
            fill, c = (float(np.mean(sides)), 1) if sides else (np.nan, -1)
        else:
            prior = valid_pos[valid_pos < i][-settings.long_gap_lookback_valid_hours:]
            fill, c = (float(x[prior].max()), 2) if len(prior) else (np.nan, -1)
        x[i:j] = fill
        code[i:j] = c
        i = j
    return x, code


def dry_standard_flow(
    q_actual_m3_h: ArrayLike, t_c: ArrayLike, ba_pa: ArrayLike, ps_pa: ArrayLike,
    x_sw: ArrayLike,
) -> Any:
    """Dry standard flow Q_sn = Q_s × 273.15/(273.15 + t_s) × (B_a + P_s)/101 325 × (1 − X_sw),
    from the actual (wet, working-state) flow, flue temperature (°C), barometric and static
    pressure (Pa) and moisture fraction."""
    q = np.asarray(q_actual_m3_h, dtype=np.float64)
    t = np.asarray(t_c, dtype=np.float64)
    p = np.asarray(ba_pa, dtype=np.float64) + np.asarray(ps_pa, dtype=np.float64)
    return q * STANDARD_T_K / (STANDARD_T_K + t) * p / STANDARD_P_PA * (1.0 - np.asarray(x_sw))


def wet_to_dry(c_wet: ArrayLike, x_sw: ArrayLike) -> Any:
    """Dry-basis concentration from a wet-basis one: C_dry = C_wet / (1 − X_sw)."""
    return np.asarray(c_wet, dtype=np.float64) / (1.0 - np.asarray(x_sw, dtype=np.float64))
