"""Carriers data file: every canonical id present, coefficients with provenance."""

from __future__ import annotations

import pytest

from accounting import carriers

CANONICAL = ("raw_coal", "anthracite", "bituminous_coal", "lignite", "washed_coal", "coke",
    "crude_oil", "gasoline", "kerosene", "diesel", "fuel_oil", "lpg", "refinery_gas",
    "natural_gas", "coke_oven_gas", "blast_furnace_gas", "converter_gas", "electricity",
    "electricity_thermal", "electricity_hydro", "electricity_pv", "electricity_wind",
    "electricity_biomass", "electricity_waste_heat", "heat", "steam", "methanol", "ethanol",
    "hydrogen", "ammonia", "water", "compressed_air", "oxygen", "nitrogen")


def test_canonical_ids_present() -> None:
    missing = set(CANONICAL) - set(carriers.carrier_ids())
    assert not missing


def test_every_coefficient_has_provenance() -> None:
    for carrier in carriers.load_carriers().values():
        assert carrier.name_zh and carrier.name_en
        for coef in carrier.kgce:
            assert coef.value > 0
            assert coef.provenance.source
            assert coef.provenance.status in ("confirmed", "unconfirmed")
            assert coef.id.startswith(f"kgce.{carrier.id}.")


def test_kgce_per_unit_published_figures() -> None:
    # GB/T 2589 table values, per default unit
    assert carriers.kgce_per_unit("raw_coal", "t") == pytest.approx(714.3)
    assert carriers.kgce_per_unit("diesel", "t") == pytest.approx(1457.1)
    assert carriers.kgce_per_unit("natural_gas", "1e4 Nm3") == pytest.approx(13300.0)
    # electricity 0.1229 kgce/kWh (equivalent value), not 3.6 / 29.3076
    assert carriers.kgce_per_unit("electricity", "MWh") == pytest.approx(122.9)
    # heat 0.03412 kgce/MJ = 34.12 kgce/GJ
    assert carriers.kgce_per_unit("heat", "GJ") == pytest.approx(34.12)
    assert carriers.kgce_per_unit("electricity", "tce") == 1000.0


def test_disagreeing_sources_are_separate_versions() -> None:
    water = carriers.get_carrier("water")
    values = {c.id: c.value for c in water.kgce}
    assert values == {"kgce.water.gbt2589-2008": 0.0857, "kgce.water.gbt2589-2020": 0.2571}
    assert carriers.kgce_per_unit("water", "m3", "kgce.water.gbt2589-2020") == pytest.approx(0.2571)


def test_onsite_power_flags() -> None:
    assert carriers.get_carrier("electricity_pv").onsite_primary
    assert not carriers.get_carrier("electricity_thermal").onsite_primary
