"""Bundled device profiles: present, non-overlapping, with the documented moduli."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.park.profiles import bundled_profiles, load_profiles
from nengtan.errors import ConfigError


def test_bundled_profiles() -> None:
    profiles = bundled_profiles()
    assert {"three_phase_meter", "gas_flow_meter", "steam_meter", "water_meter"} <= set(profiles)
    meter = profiles["three_phase_meter"]
    u32 = meter.register("import_kwh_u32")
    assert (u32.address, u32.count, u32.measures) == (100, 2, "import_energy")
    assert u32.modulus == 2**32 * 0.01  # 42 949 672.96 kWh
    assert meter.register("import_kwh").modulus is None  # float32 never wraps
    water = profiles["water_meter"].register("total_m3")
    assert water.modulus == 100000.0  # the profile's rollover beats 2^32 × 0.001
    assert profiles["gas_flow_meter"].word_order == "little"


def test_own_profiles_and_overlap_error(tmp_path: Path) -> None:
    own = tmp_path / "my_meter.yaml"
    own.write_text(
        "id: my_meter\nname: Mine\nsource: vendor manual rev 3\nregisters:\n"
        "  - {name: kwh, address: 10, dtype: uint32, scale: 0.1, kind: counter, uom: kWh}\n",
        encoding="utf-8",
    )
    profiles = load_profiles(tmp_path)
    assert profiles["my_meter"].register("kwh").modulus == 2**32 * 0.1
    assert "three_phase_meter" in profiles
    own.write_text(
        "id: my_meter\nname: Mine\nsource: x\nregisters:\n"
        "  - {name: a, address: 10, dtype: uint32, kind: counter, uom: kWh}\n"
        "  - {name: b, address: 11, dtype: uint16, kind: gauge, uom: V}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"my_meter.yaml: registers\[b\]: address 11 overlaps"):
        load_profiles(tmp_path)
