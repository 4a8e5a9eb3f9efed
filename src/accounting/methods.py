"""Calculation methods as small pure formulas (floats or numpy arrays in, tonnes out).

These are the equations of the GB/T 32151 series and the MEE sector guidelines, written once so
the per-activity resolver, the inventories and the tests use the same arithmetic.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

C_TO_CO2 = 44.0 / 12.0
"""Molar-mass ratio CO2/C: carbon (t) burnt to CO2 (t)."""

Q = TypeVar("Q", float, np.ndarray)


def combustion_co2_t(fc: Q, ncv_gj_per_unit: float, cc_tc_per_gj: float, of: float) -> Q:
    """Fuel combustion: FC × NCV × CC × OF × 44/12 (tCO2)."""
    return fc * (ncv_gj_per_unit * cc_tc_per_gj * of * C_TO_CO2)


def emission_factor_t_per_unit(ncv_gj_per_unit: float, cc_tc_per_gj: float, of: float) -> float:
    """The direct factor (tCO2 per activity unit) equal to NCV × CC × OF × 44/12."""
    return ncv_gj_per_unit * cc_tc_per_gj * of * C_TO_CO2


def electricity_co2_t(mwh: Q, ef_t_per_mwh: float) -> Q:
    """Purchased (or, negated, exported) electricity: AD (MWh) × EF (tCO2/MWh)."""
    return mwh * ef_t_per_mwh


def market_electricity_co2_t(mwh: float, green_mwh: float, residual_ef_t_per_mwh: float) -> float:
    """Market-based electricity: electricity covered by green certificates counts 0, the rest at
    the residual ('excluding market-traded non-fossil') factor. Certificates beyond the
    consumption do not make emissions negative."""
    return max(mwh - green_mwh, 0.0) * residual_ef_t_per_mwh


def heat_co2_t(gj: Q, ef_t_per_gj: float) -> Q:
    """Purchased (or, negated, exported) heat: AD (GJ) × EF (tCO2/GJ)."""
    return gj * ef_t_per_gj


def carbonate_co2_t(mass_t: Q, ef_t_per_t: float, purity: float = 1.0) -> Q:
    """Carbonate decomposition: mass × purity × stoichiometric factor."""
    return mass_t * (purity * ef_t_per_t)


def clinker_ef_t_per_t(
    cao: float, mgo: float, cao_noncarbonate: float = 0.0, mgo_noncarbonate: float = 0.0,
    cao_to_co2: float = 44.0 / 56.0, mgo_to_co2: float = 44.0 / 40.0,
) -> float:
    """Clinker method, tCO2 per t clinker: (CaO − non-carbonate CaO) × 44/56 + (MgO − non-carbonate
    MgO) × 44/40, contents as mass fractions of the clinker."""
    return (cao - cao_noncarbonate) * cao_to_co2 + (mgo - mgo_noncarbonate) * mgo_to_co2


def gas_co2e_t(mass_t: Q, gwp: float) -> Q:
    """A non-CO2 gas released (leak, process): mass × GWP100 of the chosen set."""
    return mass_t * gwp
