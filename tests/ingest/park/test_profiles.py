"""Bundled device profiles: present, non-overlapping, with the documented moduli."""

from __future__ import annotations

from ingest.park.profiles import bundled_profiles


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
