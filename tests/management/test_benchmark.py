"""Golden benchmarking figures for the small example park, January 2026 (see conftest)."""

from __future__ import annotations

import pytest

from management import benchmark
from management.periods import parse_period
from management.reference import efficiency_level, efficiency_levels

JAN = parse_period("2026-01")


def test_levels_carry_provenance_and_status() -> None:
    levels = efficiency_levels()
    assert "cement.clinker.2023" in levels
    for lv in levels.values():
        assert lv.provenance.source and lv.provenance.status in ("confirmed", "unconfirmed")
        assert lv.benchmark <= lv.baseline
    assert efficiency_level("cement.clinker.2023").grade(99) == "benchmark"
    assert efficiency_level("cement.clinker.2023").grade(110) == "between"
    assert efficiency_level("cement.clinker.2023").grade(117.5) == "below_baseline"


def test_product_intensity_golden(model, inputs, metered) -> None:
    rows = {r.enterprise: r for r in benchmark.product_intensities(model, inputs, metered, JAN)}
    acme = rows["acme"]
    # acme, whole enterprise (level-1 points; the level-2 synthesis sub-meter is not added):
    #   electricity 40 000 kWh × 31 = 1 240 000 kWh × 0.1229      =   152 396.00 kgce
    #   boiler gas  28 800 Nm3 × 31 =   892 800 Nm3 × 1.33        = 1 187 424.00
    #   feedstock   62 400 Nm3 × 31 = 1 934 400 Nm3 × 1.33        = 2 572 752.00
    #   water          800 m3  × 31 =    24 800 m3  × 0.0857      =     2 125.36
    #   comp. air   15 000 Nm3 × 31 =   465 000 Nm3 × 0.04        =    18 600.00
    #   diesel                            3 t     × 1 457.1       =     4 371.30
    #   total                                                      = 3 937 668.66 kgce
    # recorded output 3 500 t -> 1 125.048 kgce/t; level ammonia (natural gas) 1000 / 1200
    assert acme.energy_kgce == pytest.approx(3_937_668.66, rel=1e-12)
    assert acme.output == 3500 and acme.output_basis == "recorded"
    assert acme.kgce_per_unit == pytest.approx(3_937_668.66 / 3500, rel=1e-12)
    assert acme.kgce_per_unit == pytest.approx(1125.0482, abs=1e-4)
    assert acme.grade == "between"
    assert acme.gap_to_benchmark == pytest.approx(125.0482, abs=1e-4)
    assert acme.gap_to_baseline == pytest.approx(-74.9518, abs=1e-4)
    hengli = rows["hengli"]
    # hengli, scope hengli.mill: coke-oven gas 5 580 000 Nm3 × 0.5714 = 3 188 412
    #   + purchased steam 4 650 t × 128.6 = 597 990 -> 3 786 402 kgce
    # output: park 800 000 t/a × 31/365 = 67 945.2055 t -> 55.7273 kgce/t (no national level)
    assert hengli.scope == "hengli.mill"
    assert hengli.energy_kgce == pytest.approx(3_786_402.0, rel=1e-12)
    assert hengli.output == pytest.approx(67_945.2055, abs=1e-4)
    assert hengli.output_basis == "park_prorated"
    assert hengli.kgce_per_unit == pytest.approx(55.7273, abs=1e-4)
    assert hengli.grade is None
    sunrise = rows["sunrise"]
    # sunrise.canning: 155 000 kWh × 0.1229 = 19 049.5 + steam 1 240 t × 128.6 = 159 464
    #   + air 155 000 Nm3 × 0.04 = 6 200 -> 184 713.5 kgce; output 30 000 × 31/365 = 2 547.945 t
    assert sunrise.energy_kgce == pytest.approx(184_713.5, rel=1e-12)
    assert sunrise.kgce_per_unit == pytest.approx(72.4951, abs=1e-4)


def test_peers_ranking_golden(model, inputs, metered) -> None:
    rows = {r.enterprise: r for r in benchmark.peers(model, inputs, metered, JAN)}
    # energy (tce): acme 3 937.66866; hengli enterprise-wide:
    #   457 188 (grid) − 2 285.94 (export) + 3 188 412 (COG) + 597 990 (steam) + 7 619.8 (PV)
    #   = 4 248 923.86 kgce; sunrise: 306 900 kWh × 0.1229 = 37 718.01 + 159 464 + diesel
    #   31 000 kg × 1.4571 = 45 170.1 + water 664.175 + air 6 200 = 249 216.285 kgce
    # output value (1e4 CNY): acme 12 250 (recorded); hengli 310 000 × 31/365 = 26 328.767;
    #   sunrise 36 000 × 31/365 = 3 057.534
    # tce per 1e4 CNY: acme 0.321442, hengli 0.161380, sunrise 0.081509 -> ranks 3, 2, 1
    # park: 8 435.808805 tce / 41 636.301 = 0.2026071
    assert rows["acme"].energy_tce == pytest.approx(3937.66866, rel=1e-12)
    assert rows["hengli"].energy_tce == pytest.approx(4248.92386, rel=1e-12)
    assert rows["sunrise"].energy_tce == pytest.approx(249.216285, rel=1e-12)
    assert rows["acme"].tce_per_1e4_cny == pytest.approx(0.321442, abs=1e-6)
    assert rows["hengli"].tce_per_1e4_cny == pytest.approx(0.161380, abs=1e-6)
    assert rows["sunrise"].tce_per_1e4_cny == pytest.approx(0.081509, abs=1e-6)
    assert [rows[e].rank for e in ("sunrise", "hengli", "acme")] == [1, 2, 3]
    assert rows["acme"].vs_park == pytest.approx(0.321442 / 0.2026071, rel=1e-5)


def test_equipment_level_golden(model, inputs, metered) -> None:
    rows = {r.unit: r for r in benchmark.equipment(model, inputs, metered, JAN)}
    boiler = rows["acme.boiler-1"]
    # gas 1 187 424 kgce for 300 t/d × 31 = 9 300 t of steam -> 127.68 kgce/t steam;
    # share of acme's 3 937 668.66 kgce = 0.301555
    assert boiler.equipment_class == "gas_boiler"
    assert boiler.kgce_per_output == pytest.approx(127.68, rel=1e-12)
    assert boiler.share_of_enterprise == pytest.approx(0.301555, abs=1e-6)
    assert boiler.rank_in_class == 1
    assert rows["hengli.furnace"].energy_kgce == pytest.approx(3_188_412.0, rel=1e-12)
    assert rows["acme.compressor-1"].equipment_class == "unclassified"


def test_trend_change(model, inputs, metered_until) -> None:
    from datetime import date

    m = metered_until(date(2026, 1, 31))
    # February: acme at the same daily rates for 28 days, park output pro rata 120 000 × 28/365
    for p, q in {"acme.grid.kwh": 40_000.0, "acme.boiler1.gas": 28_800.0}.items():
        for d in range(1, 29):
            m.add(p, date(2026, 2, d), q)
    series = benchmark.trend(model, inputs, m, [JAN, parse_period("2026-02")])["acme/synthetic ammonia"]
    # Feb: (40 000 × 0.1229 + 28 800 × 1.33) × 28 = 1 210 160 kgce / 9 205.479 t = 131.4629
    assert series[1]["kgce_per_unit"] == pytest.approx(1_210_160 / (120_000 * 28 / 365), rel=1e-12)
    assert series[1]["change"] == pytest.approx(131.4629 / 1125.0482 - 1, abs=1e-5)
    assert series[0]["change"] is None
