"""CEMS measured method: minute masses, hourly validity, substitution and flow helpers."""

from __future__ import annotations

import numpy as np
import pytest

from accounting import cems

Q = 100_000.0  # Nm3/h, dry standard


def test_co2_hour_all_minutes_valid_is_plain_sum() -> None:
    # CO2 10 % at 100 000 Nm3/h: minute mass = 10/100 × 100 000/60 × 1.9643/1000
    #   = 166.667 × 0.0019643 = 0.32738333 t; hour = 60 × 0.32738333 = 19.643 t
    minute = cems.co2_minute_mass_t(np.full(60, 10.0), np.full(60, Q))
    assert minute[0] == pytest.approx(0.3273833333)
    hour = cems.hourly_mass(minute, np.ones(60, dtype=bool))
    assert hour.value == pytest.approx(19.643)
    assert int(hour.n_valid) == 60 and bool(hour.valid)


def test_hour_with_50_valid_minutes_is_scaled() -> None:
    # 50 valid minutes at 0.32738333 t and 10 flagged minutes (any value, ignored):
    #   Σ valid = 16.369167 t; × 60/50 = 19.643 t
    minute = cems.co2_minute_mass_t(np.r_[np.full(50, 10.0), np.full(10, 99.0)], Q)
    flags = np.array(["N"] * 50 + ["F"] * 10)
    hour = cems.hourly_mass(minute, cems.valid_minutes(flags))
    assert hour.value == pytest.approx(19.643)
    assert int(hour.n_valid) == 50


def test_hour_with_44_valid_minutes_is_invalid() -> None:
    minute = np.full(60, 0.3)
    valid = np.r_[np.ones(44, dtype=bool), np.zeros(16, dtype=bool)]
    hour = cems.hourly_mass(minute, valid)
    assert np.isnan(hour.value) and not bool(hour.valid)
    relaxed = cems.hourly_mass(minute, valid, cems.CemsSettings(min_valid_minutes=40))
    assert relaxed.value == pytest.approx(0.3 * 44 * 60 / 44)  # = 18.0


def test_pollutant_mass_and_mean() -> None:
    # SO2 35 mg/m3 × 100 000 Nm3/h / 60 × 1e-6 = 0.0583333 kg per minute; 3.5 kg per hour
    m = cems.pollutant_minute_mass_kg(np.full(60, 35.0), Q)
    assert cems.hourly_mass(m, np.ones(60, dtype=bool)).value == pytest.approx(3.5)
    conc = np.r_[np.full(30, 30.0), np.full(30, 40.0)]
    valid = np.r_[np.ones(50, dtype=bool), np.zeros(10, dtype=bool)]
    # mean of valid minutes: (30 × 30 + 20 × 40) / 50 = 1700/50 = 34.0
    assert cems.hourly_mean(conc, valid).value == pytest.approx(34.0)


def test_hourly_by_timestamp_groups_irregular_minutes() -> None:
    h0 = 1_700_000_000_000 // cems.MS_PER_HOUR * cems.MS_PER_HOUR
    ts = np.r_[h0 + np.arange(60) * 60_000, h0 + cems.MS_PER_HOUR + np.arange(45) * 60_000]
    mass = np.ones(len(ts))
    starts, hourly = cems.hourly_mass_by_ts(ts[::-1], mass, np.ones(len(ts), dtype=bool))
    assert list(starts) == [h0, h0 + cems.MS_PER_HOUR]
    # first hour: 60 × 1 = 60; second: 45 valid minutes × 1 × 60/45 = 60
    np.testing.assert_allclose(hourly.value, [60.0, 60.0])
    assert list(hourly.n_valid) == [60, 45]


def test_substitution_short_and_long_gaps() -> None:
    nan = np.nan
    filled, code = cems.substitute_hours([10.0, nan, nan, 20.0], [True, False, False, True])
    # gap of 2 h ≤ 24 h: mean of the valid hours either side = (10 + 20)/2 = 15
    np.testing.assert_allclose(filled, [10.0, 15.0, 15.0, 20.0])
    assert list(code) == [0, 1, 1, 0]
    settings = cems.CemsSettings(short_gap_max_hours=1, long_gap_lookback_valid_hours=2)
    series = [5.0, 9.0, 7.0, nan, nan, 3.0]
    filled, code = cems.substitute_hours(series, [True, True, True, False, False, True], settings)
    # gap of 2 h > 1 h: maximum of the 2 preceding valid hours (9, 7) = 9
    np.testing.assert_allclose(filled, [5.0, 9.0, 7.0, 9.0, 9.0, 3.0])
    assert list(code) == [0, 0, 0, 2, 2, 0]
    settings = cems.CemsSettings(short_gap_max_hours=1, long_gap_lookback_valid_hours=1)
    filled, _ = cems.substitute_hours(series, [True, True, True, False, False, True], settings)
    assert filled[3] == 7.0  # only the last valid hour
    filled, code = cems.substitute_hours([nan, nan], [False, False])
    assert np.isnan(filled).all() and list(code) == [-1, -1]


def test_flow_and_moisture_helpers() -> None:
    # 150 000 m3/h at 120 °C, Ba 101 325 Pa, Ps −1 325 Pa, 8 % moisture:
    #   150 000 × 273.15/393.15 × 100 000/101 325 × 0.92 = 94 624.89 Nm3/h (dry, standard)
    assert cems.dry_standard_flow(150_000, 120.0, 101_325, -1_325, 0.08) == pytest.approx(
        94_624.89, rel=1e-7
    )
    # C_dry = 46 / (1 − 0.08) = 50
    assert cems.wet_to_dry(46.0, 0.08) == pytest.approx(50.0)
