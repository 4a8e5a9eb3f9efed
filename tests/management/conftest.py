"""The golden scenario: the small example park with a hand-made month of metered energy.

January 2026, every day the same quantity per point (so monthly totals are 31 × the daily
value and hand-checkable), the forklift diesel delivered once (3 t on 2026-01-10); January 2025
is the history month for the budget forecast (acme only: 0.9 × the 2026 daily values, no
diesel). Management inputs: ``management/data/examples/demo-park.yaml``.
"""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest

from ingest.park.loader import load_park
from ingest.park.models import Park
from management.inputs import ManagementInputs, check_against, load_inputs
from management.metered import EnergyModel, Metered

ROOT = Path(__file__).resolve().parents[2]
PARK_FILE = ROOT / "examples" / "park-small.yaml"

DAILY_2026: dict[str, float] = {
    # acme (synthetic ammonia)
    "acme.grid.kwh": 40_000.0,        # kWh, level-1 incomer
    "acme.synth.kwh": 25_000.0,       # kWh, level-2 sub-meter (inside the incomer)
    "acme.boiler1.gas": 28_800.0,     # Nm3 (1200 Nm3/h)
    "acme.feed.gas_total": 62_400.0,  # Nm3 feedstock (2600 Nm3/h)
    "acme.water.m3": 800.0,           # m3
    "acme.compressor1.air": 15_000.0, # Nm3 (integrated rate)
    "acme.boiler1.steam_flow": 300.0, # t steam raised (boiler output)
    # hengli (hot-rolled steel)
    "hengli.grid.kwh": 120_000.0,
    "hengli.grid.export_kwh": 600.0,
    "hengli.furnace.cog": 180_000.0,  # Nm3 coke-oven gas
    "hengli.mill.steam": 150.0,       # t purchased steam (integrated rate)
    "hengli.pv.kwh": 2_000.0,         # kWh rooftop PV
    # sunrise (canned food)
    "sunrise.main.kwh": 8_000.0,
    "sunrise.canning.kwh": 5_000.0,   # level-2 sub-meter
    "sunrise.cold.kwh": 1_900.0,      # cold store (level 1 beside the main incomer)
    "sunrise.canning.steam": 40.0,    # t purchased steam
    "sunrise.boiler.diesel": 1_000.0, # kg
    "sunrise.water.m3": 250.0,
    "sunrise.air.flow": 5_000.0,      # Nm3
}
DIESEL_DAY = date(2026, 1, 10)
DIESEL_T = 3.0
HISTORY_SHARE = 0.9


def _days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def scenario_metered(until: date = date(2026, 1, 31)) -> Metered:
    """The metered days of the scenario up to and including ``until``."""
    m = Metered()
    for d in _days(date(2025, 1, 1), 31):
        for p, q in DAILY_2026.items():
            if p.startswith("acme."):
                m.add(p, d, q * HISTORY_SHARE)
    for d in _days(date(2026, 1, 1), 31):
        if d > until:
            break
        for p, q in DAILY_2026.items():
            m.add(p, d, q)
        if d == DIESEL_DAY:
            m.add("acme.manual.diesel", d, DIESEL_T)
    return m


@pytest.fixture(scope="session")
def park() -> Park:
    return load_park(PARK_FILE)


@pytest.fixture(scope="session")
def inputs(park: Park) -> ManagementInputs:
    path = resources.files("management") / "data" / "examples" / "demo-park.yaml"
    loaded = load_inputs(Path(str(path)))
    check_against(loaded, park)
    return loaded


@pytest.fixture(scope="session")
def model(park: Park) -> EnergyModel:
    return EnergyModel(park)


@pytest.fixture()
def metered() -> Metered:
    return scenario_metered()


@pytest.fixture(scope="session")
def metered_until():  # type: ignore[no-untyped-def]
    """Factory: the scenario's metered days up to a day."""
    return scenario_metered
