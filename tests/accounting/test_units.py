"""Units: parsing, conversion within a dimension and through a carrier, carrier fit checks."""

from __future__ import annotations

import numpy as np
import pytest

from accounting import units
from accounting.errors import UnknownCarrierError, UnknownUnitError, UomMismatchError
from nengtan.errors import ConfigError


def test_every_brief_unit_parses() -> None:
    for uom in ["kWh", "MWh", "GWh", "GJ", "MJ", "TJ", "t", "kg", "Nm3", "1e4 Nm3", "m3",
                "kgce", "tce", "t/h", "Nm3/h", "kW", "MW", "GJ/h"]:
        assert units.parse_uom(uom).symbol == uom


def test_aliases_normalise() -> None:
    assert units.canonical_uom("1e4Nm3") == "1e4 Nm3"
    assert units.canonical_uom("  1e4   Nm3 ") == "1e4 Nm3"
    assert units.canonical_uom("kwh") == "kWh"


def test_same_dimension_ratios() -> None:
    assert units.convert(1.0, "MWh", "kWh") == pytest.approx(1000.0)
    assert units.convert(1.0, "GJ", "MJ") == pytest.approx(1000.0)
    assert units.convert(2.5, "t", "kg") == pytest.approx(2500.0)
    assert units.convert(3.0, "1e4 Nm3", "Nm3") == pytest.approx(30000.0)
    # 1 MWh = 3600 MJ = 3.6 GJ
    assert units.convert(1.0, "MWh", "GJ") == pytest.approx(3.6)
    # 1 tce = 29 307.6 MJ = 29.3076 GJ
    assert units.convert(1.0, "tce", "GJ") == pytest.approx(29.3076)


def test_convert_arrays() -> None:
    out = units.convert(np.array([1.0, 2.0]), "t", "kg")
    np.testing.assert_allclose(out, [1000.0, 2000.0])


def test_carrier_conversion_through_kgce() -> None:
    # natural gas 1.33 kgce/Nm3: 1e4 Nm3 = 13 300 kgce = 13.3 tce
    assert units.convert(1.0, "1e4 Nm3", "tce", carrier="natural_gas") == pytest.approx(13.3)
    # diesel 1.4571 kgce/kg: 1 t = 1457.1 kgce = 1457.1 × 29.3076 MJ = 42.70 GJ
    assert units.convert(1.0, "t", "GJ", carrier="diesel") == pytest.approx(42.7041, rel=1e-4)
    assert units.convert(42.7041, "GJ", "t", carrier="diesel") == pytest.approx(1.0, rel=1e-4)


def test_cross_dimension_needs_carrier() -> None:
    with pytest.raises(UomMismatchError):
        units.convert(1.0, "t", "GJ")


def test_rates() -> None:
    assert units.is_rate("t/h") and not units.is_rate("t")
    assert units.integrated_uom("t/h") == "t"
    assert units.integrated_uom("kW") == "kWh"
    assert units.integrated_uom("MW") == "MWh"
    assert units.integrated_uom("GJ/h") == "GJ"
    assert units.integrated_uom("Nm3/h") == "Nm3"
    assert units.integrated_uom("GJ") == "GJ"
    with pytest.raises(UomMismatchError, match="rate"):
        units.convert(1.0, "t/h", "t")


def test_check_uom_fits() -> None:
    assert units.check_uom("electricity", "MWh").symbol == "MWh"
    assert units.check_uom("natural_gas", "1e4Nm3").symbol == "1e4 Nm3"
    assert units.check_uom("natural_gas", "GJ").dimension == "energy"
    assert units.check_uom("steam", "t/h").is_rate
    assert units.fits("diesel", "t")
    assert not units.fits("electricity", "t")
    assert not units.fits("natural_gas", "m3")  # actual volume is not standard volume
    assert not units.fits("natural_gas", "furlong")


def test_check_uom_errors_are_config_errors_naming_the_problem() -> None:
    with pytest.raises(UomMismatchError, match=r"'t'.*does not fit carrier 'electricity'") as exc:
        units.check_uom("electricity", "t")
    assert isinstance(exc.value, ConfigError)
    with pytest.raises(UnknownUnitError, match="furlong"):
        units.check_uom("diesel", "furlong")
    with pytest.raises(UnknownCarrierError, match="coal'"):
        units.check_uom("coal", "t")
    with pytest.raises(UomMismatchError, match="rate"):
        units.check_uom("diesel", "t/h", allow_rate=False)
