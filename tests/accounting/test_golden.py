"""Golden cases of the acceptance list; every number is worked by hand in the comments.

Factors used (data/factors, data/carriers.yaml):
  natural gas (set A): NCV 389.31 GJ/1e4 Nm3, CC 0.0153 tC/GJ, OF 0.99; 1.33 kgce/Nm3
  diesel (set A):      NCV 42.652 GJ/t, CC 0.0202, OF 0.98; 1.4571 kgce/kg
  crude oil (set A):   NCV 41.816 GJ/t, CC 0.0201, OF 0.98; 1.4286 kgce/kg
  electricity:         0.1229 kgce/kWh; central grid 2022 0.5395, east 2022 0.5617 tCO2/MWh;
                       national 2022 excluding market-traded non-fossil 0.5856 tCO2/MWh
  limestone:           0.4397 tCO2/t;  SF6 GWP100: AR4 22 800, AR5 23 500, AR6 25 200
"""

from __future__ import annotations

import numpy as np
import pytest

from accounting import cems
from accounting.inventory import Activity, Amount, Inventory, Period, account
from accounting.settings import AccountingSettings

REL = 1e-9


def _one(*activities: Activity, region: str | None = "jiangxi",
         settings: AccountingSettings | None = None) -> Inventory:
    period = Period(period="2022", output_value=Amount(value=1000.0, unit="1e4 CNY"),
                    activities=list(activities))
    return Inventory(region=region, settings=settings or AccountingSettings(), periods=[period])


def _line(inv: Inventory, i: int = 0):  # type: ignore[no-untyped-def]
    return account(inv).periods[0].lines[i]


def test_natural_gas_boiler() -> None:
    # 120 × 1e4 Nm3 natural gas burnt in a boiler
    # energy: 1 200 000 Nm3 × 1.33 kgce/Nm3 = 1 596 000 kgce = 1 596 tce
    # CO2: 120 × 389.31 GJ = 46 717.2 GJ; × 0.0153 tC/GJ = 714.77316 tC; × 0.99 = 707.625428 tC;
    #      × 44/12 = 2 594.626571 t
    line = _line(_one(Activity(carrier="natural_gas", quantity=120, uom="1e4 Nm3", use="fuel")))
    assert line.energy_tce == pytest.approx(1596.0, rel=REL)
    assert line.co2e_t == pytest.approx(2594.6265708, rel=REL)
    assert (line.scope, line.category, line.factor_id) == (1, "fuel_combustion",
                                                           "fuel.natural_gas.setA")


def test_diesel_fleet() -> None:
    # 50 t diesel in trucks (park category: transport)
    # energy: 50 000 kg × 1.4571 = 72 855 kgce = 72.855 tce
    # CO2: 50 × 42.652 = 2 132.6 GJ; × 0.0202 = 43.07852 tC; × 0.98 = 42.2169496 tC;
    #      × 44/12 = 154.7954819 t
    line = _line(_one(Activity(carrier="diesel", quantity=50, uom="t", use="fuel",
                               category="transport")))
    assert line.energy_tce == pytest.approx(72.855, rel=REL)
    assert line.co2e_t == pytest.approx(154.7954819, rel=1e-9)
    assert line.category == "transport" and line.scope == 1


def test_purchased_electricity_regional_factor() -> None:
    # 8 000 MWh bought by an enterprise in Jiangxi (central grid), 2022:
    #   8 000 × 0.5395 = 4 316.0 t; energy 8 000 000 kWh × 0.1229 = 983 200 kgce = 983.2 tce
    act = Activity(carrier="electricity", quantity=8000, uom="MWh", use="purchased")
    line = _line(_one(act))
    assert line.co2e_t == pytest.approx(4316.0, rel=REL)
    assert line.energy_tce == pytest.approx(983.2, rel=REL)
    assert line.factor_id == "grid.central.2022.mee-nbs" and line.scope == 2
    # the same in Jiangsu (east grid): 8 000 × 0.5617 = 4 493.6 t
    assert _line(_one(act, region="jiangsu")).co2e_t == pytest.approx(4493.6, rel=REL)
    # no region: national statistical 2022, 8 000 × 0.5366 = 4 292.8 t
    assert _line(_one(act, region=None)).co2e_t == pytest.approx(4292.8, rel=REL)


def test_market_based_electricity_with_green_certificates() -> None:
    # market method: 1 000 MWh covered by certificates at 0, the other 7 000 MWh at the national
    # residual factor (no regional residual published): 7 000 × 0.5856 = 4 099.2 t
    act = Activity(carrier="electricity", quantity=8000, uom="MWh", use="purchased",
                   green_certificates_mwh=1000)
    line = _line(_one(act, settings=AccountingSettings(electricity_method="market")))
    assert line.co2e_t == pytest.approx(4099.2, rel=REL)
    assert line.factor_id == "grid.national.2022.mee-nbs.excl-market-nonfossil+green-certificates"


def test_exported_electricity_is_deducted() -> None:
    # buy 8 000 MWh, export 200 MWh (central grid 2022):
    #   export line −200 × 0.5395 = −107.9 t, −200 000 kWh × 0.1229 = −24.58 tce
    #   net scope 2 = 4 316.0 − 107.9 = 4 208.1 t; net energy 983.2 − 24.58 = 958.62 tce
    inv = _one(Activity(carrier="electricity", quantity=8000, uom="MWh", use="purchased"),
               Activity(carrier="electricity", quantity=200, uom="MWh", use="exported"))
    period = account(inv).periods[0]
    assert period.lines[1].co2e_t == pytest.approx(-107.9, rel=REL)
    assert period.lines[1].energy_tce == pytest.approx(-24.58, rel=REL)
    assert period.by_scope()["2"] == pytest.approx(4208.1, rel=REL)
    assert period.energy_tce == pytest.approx(958.62, rel=REL)


def test_crude_oil_split_into_fuel_and_feedstock() -> None:
    # 1 000 t crude burnt in heaters, 20 000 t processed as raw material
    # fuel CO2: 1 000 × 41.816 = 41 816 GJ; × 0.0201 = 840.5016 tC; × 0.98 = 823.691568 tC;
    #           × 44/12 = 3 020.202416 t
    # energy: fuel 1 000 000 kg × 1.4286 = 1 428.6 tce; feedstock 20 000 000 × 1.4286 = 28 572 tce
    # total 1 428.6 + 28 572 = 30 000.6 tce = 21 000 t × 1.4286: each tonne counted once;
    # the feedstock adds no combustion CO2
    inv = _one(Activity(carrier="crude_oil", quantity=1000, uom="t", use="fuel"),
               Activity(carrier="crude_oil", quantity=20000, uom="t", use="feedstock"))
    period = account(inv).periods[0]
    fuel, feed = period.lines
    assert fuel.co2e_t == pytest.approx(3020.202416, rel=REL)
    assert feed.co2e_t == 0.0 and feed.category == "feedstock" and feed.scope == 0
    assert feed.energy_tce == pytest.approx(28572.0, rel=REL)
    assert period.energy_tce == pytest.approx(30000.6, rel=REL)
    assert period.co2e_t == pytest.approx(3020.202416, rel=REL)


def test_limestone_process_source() -> None:
    # 5 000 t limestone calcined: 5 000 × 0.4397 = 2 198.5 t CO2 (no energy)
    # at 90 % CaCO3 purity: 5 000 × 0.9 × 0.4397 = 1 978.65 t
    pure = _line(_one(Activity(carrier="limestone", quantity=5000, uom="t", use="process")))
    assert pure.co2e_t == pytest.approx(2198.5, rel=REL)
    assert pure.energy_tce == 0.0 and pure.category == "industrial_processes"
    impure = _line(_one(Activity(carrier="limestone", quantity=5000, uom="t", use="process",
                                 purity=0.9)))
    assert impure.co2e_t == pytest.approx(1978.65, rel=REL)
    assert impure.factor_id == "process.limestone.stoich+measured(purity)"


def test_cems_hour() -> None:
    # stack at 12 % CO2 (dry), dry standard flow 250 000 Nm3/h, 48 valid minutes, 12 flagged:
    # minute mass = 12/100 × 250 000/60 × 1.9643/1000 = 0.12 × 4 166.667 × 0.0019643
    #             = 0.98215 t; Σ valid = 48 × 0.98215 = 47.1432 t; × 60/48 = 58.929 t/h
    minute = cems.co2_minute_mass_t(np.full(60, 12.0), np.full(60, 250_000.0))
    assert minute[0] == pytest.approx(0.98215, rel=REL)
    flags = np.array(["N"] * 48 + ["D"] * 12)
    hour = cems.hourly_mass(minute, cems.valid_minutes(flags))
    assert float(hour.value) == pytest.approx(58.929, rel=REL)
    assert int(hour.n_valid) == 48 and bool(hour.valid)


@pytest.mark.parametrize(("gwp_set", "expected"), [("AR5", 235.0), ("AR4", 228.0), ("AR6", 252.0)])
def test_sf6_leak_with_gwp_sets(gwp_set: str, expected: float) -> None:
    # 10 kg SF6 leaked from switchgear = 0.01 t
    #   AR5: 0.01 × 23 500 = 235 tCO2e; AR4: 0.01 × 22 800 = 228; AR6: 0.01 × 25 200 = 252
    settings = AccountingSettings(gwp_set=gwp_set)  # type: ignore[arg-type]
    line = _line(_one(Activity(carrier="sf6", quantity=10, uom="kg", use="process"),
                      settings=settings))
    assert line.co2e_t == pytest.approx(expected, rel=REL)
    assert line.gases_t == {"sf6": pytest.approx(0.01)}
    assert line.factor_id == f"gwp.{gwp_set}.sf6"
