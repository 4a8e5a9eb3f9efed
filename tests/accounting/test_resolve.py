"""Per-activity coefficients: overrides, methods, signs and the settings that choose factors."""

from __future__ import annotations

import pytest

from accounting.errors import MethodError, UnknownFactorError, UomMismatchError
from accounting.resolve import Overrides, resolve
from accounting.settings import AccountingSettings


def test_measured_parameters_override_defaults() -> None:
    # natural gas with a measured NCV of 400 GJ/1e4 Nm3 (CC, OF from set A):
    #   400 × 0.0153 × 0.99 × 44/12 = 22.2156 t per 1e4 Nm3
    c = resolve("natural_gas", "1e4 Nm3", "fuel", year=2022, overrides=Overrides(ncv=400.0))
    assert c.co2e_t_per_unit == pytest.approx(22.2156)
    assert c.factor_id == "fuel.natural_gas.setA+measured(ncv)"
    # a direct measured factor wins over everything: 2.0 t per 1e4 Nm3
    c = resolve("natural_gas", "1e4 Nm3", "fuel", year=2022, overrides=Overrides(ef=2.0))
    assert c.co2e_t_per_unit == 2.0 and c.factor_id == "measured.natural_gas.ef"
    # an enterprise's own grid factor: 0.6 t/MWh -> 0.0006 t/kWh given as ef per activity unit
    c = resolve("electricity", "kWh", "purchased", year=2022, overrides=Overrides(ef=0.0006))
    assert c.co2e_t_per_unit == 0.0006 and c.factor_id == "measured.electricity.ef"


def test_fuel_without_defaults_needs_measured_parameters() -> None:
    with pytest.raises(MethodError, match="no default fuel parameters for 'raw_coal'"):
        resolve("raw_coal", "t", "fuel", year=2022)
    # 20.9 × 0.0262 × 0.93 × 44/12 = 1.86724780 t/t
    c = resolve("raw_coal", "t", "fuel", year=2022,
                overrides=Overrides(ncv=20.9, cc=0.0262, of=0.93))
    assert c.co2e_t_per_unit == pytest.approx(1.8672478)
    assert c.factor_id == "measured.raw_coal.ncv+cc+of"


def test_fuel_given_in_energy_units() -> None:
    # 1 GJ of natural gas: CO2 = 0.0153 × 0.99 × 44/12 = 0.055539 t; 1 GJ = 34.12 kgce
    c = resolve("natural_gas", "GJ", "fuel", year=2022)
    assert c.co2e_t_per_unit == pytest.approx(0.055539)
    assert c.kgce_per_unit == pytest.approx(1000 / 29.3076)


def test_ipcc_set_when_preferred() -> None:
    # IPCC 56 100 kg/TJ = 0.0561 t/GJ; 1e4 Nm3 of natural gas = 13 300 kgce × 29.3076 MJ
    #   = 389.791 GJ -> 21.8673 t
    settings = AccountingSettings(fuel_sets=("ipcc2006",))
    c = resolve("natural_gas", "1e4 Nm3", "fuel", year=2022, settings=settings)
    assert c.factor_id == "fuel.natural_gas.ipcc2006"
    assert c.co2e_t_per_unit == pytest.approx(13300 * 29.3076 / 1000 * 0.0561)


def test_onsite_generation() -> None:
    pv = resolve("electricity_pv", "MWh", "generated", year=2022)
    assert (pv.kgce_per_unit, pv.co2e_t_per_unit, pv.scope) == (pytest.approx(122.9), 0.0, 0)
    # thermal power made on site from fuel already metered: not counted again
    chp = resolve("electricity_thermal", "MWh", "generated", year=2022)
    assert (chp.kgce_per_unit, chp.co2e_t_per_unit) == (0.0, 0.0)


def test_equal_value_electricity() -> None:
    # equal-value method with a coal rate setting of 0.300 kgce/kWh: 1 MWh = 300 kgce
    settings = AccountingSettings(electricity_kgce_method="equal_value",
                                  equal_value_coal_rate_kgce_per_kwh=0.3)
    c = resolve("electricity", "MWh", "purchased", year=2022, settings=settings)
    assert c.kgce_per_unit == pytest.approx(300.0)
    assert c.kgce_factor_id == "setting.equal_value_coal_rate"
    # from the coal-rate series (latest year not after 2022 in the data: 2020, 0.3055)
    settings = AccountingSettings(electricity_kgce_method="equal_value")
    c = resolve("electricity", "MWh", "purchased", year=2022, settings=settings)
    assert c.kgce_per_unit == pytest.approx(305.5)
    assert c.kgce_factor_id == "coal_rate.national.2020.cec"


def test_heat_purchase_and_export() -> None:
    # 1 GJ heat: 34.12 kgce, 0.11 tCO2; exported: both negative
    c = resolve("heat", "GJ", "purchased", year=2022)
    assert (c.kgce_per_unit, c.co2e_t_per_unit, c.scope) == (pytest.approx(34.12), 0.11, 2)
    e = resolve("heat", "GJ", "exported", year=2022)
    assert (e.kgce_per_unit, e.co2e_t_per_unit) == (pytest.approx(-34.12), -0.11)
    assert e.category == "exported_heat"


def test_grid_settings_select_series_year_region() -> None:
    s = AccountingSettings(grid_series="carbon_market")
    assert resolve("electricity", "MWh", "purchased", year=2022,
                   settings=s).factor_id == "grid.national.2022.mee-2023-43"
    s = AccountingSettings(grid_year=2023, grid_region="east")
    c = resolve("electricity", "MWh", "purchased", year=2022, region="jiangxi", settings=s)
    assert c.factor_id == "grid.east.2023.mee-nbs" and c.co2e_t_per_unit == pytest.approx(0.55)
    s = AccountingSettings(grid_variant="fossil")
    assert resolve("electricity", "MWh", "purchased", year=2023,
                   settings=s).co2e_t_per_unit == pytest.approx(0.8273)


def test_kgce_version_setting() -> None:
    s = AccountingSettings(kgce_versions={"water": "kgce.water.gbt2589-2020"})
    c = resolve("water", "m3", "purchased", year=2022, settings=s)
    assert c.kgce_per_unit == pytest.approx(0.2571)
    s = AccountingSettings(kgce_versions={"water": "kgce.water.nope"})
    with pytest.raises(UnknownFactorError, match=r"kgce\.water\.nope"):
        resolve("water", "m3", "purchased", year=2022, settings=s)


def test_clinker_and_ccus() -> None:
    # clinker with 65 % CaO (1 % non-carbonate) and 1.5 % MgO:
    #   (0.65 − 0.01) × 44/56 + 0.015 × 44/40 = 0.502857 + 0.0165 = 0.519357 t/t
    c = resolve("clinker", "t", "process", year=2022,
                overrides=Overrides(cao=0.65, mgo=0.015, cao_noncarbonate=0.01))
    assert c.co2e_t_per_unit == pytest.approx(0.5193571, rel=1e-6)
    with pytest.raises(MethodError, match="clinker needs"):
        resolve("clinker", "t", "process", year=2022)
    cc = resolve("co2_captured", "t", "process", year=2022)
    assert (cc.co2e_t_per_unit, cc.category) == (-1.0, "ccus")


def test_wrong_uses_and_units() -> None:
    with pytest.raises(MethodError, match="use 'purchased' does not apply to carrier 'diesel'"):
        resolve("diesel", "t", "purchased", year=2022)
    with pytest.raises(MethodError, match="energy carrier"):
        resolve("diesel", "t", "process", year=2022)
    with pytest.raises(UomMismatchError, match="must be a mass"):
        resolve("limestone", "GJ", "process", year=2022)
    with pytest.raises(UnknownFactorError, match="no process factor for 'unobtainium'"):
        resolve("unobtainium", "t", "process", year=2022)
    with pytest.raises(MethodError, match="unknown category"):
        resolve("diesel", "t", "fuel", year=2022, category="shipping")
