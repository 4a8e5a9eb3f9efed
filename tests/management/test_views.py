"""Analysis views: energy structure, decoupling, STIRPAT drivers, recommendations."""

from __future__ import annotations

import pytest

from accounting import stirpat
from management import benchmark, views
from management.periods import parse_period

JAN, JAN25 = parse_period("2026-01"), parse_period("2025-01")


def test_energy_structure_and_trend(model, metered) -> None:
    rows = views.energy_structure(model, metered, "acme", [JAN25, JAN])
    jan = rows[1]
    # gross 3 937 668.66 kgce; natural gas 1 187 424 + 2 572 752 = 3 760 176 -> 0.9549244;
    # oil (diesel) 4 371.3 -> 0.0011101; January 2025 had no diesel, so its oil share is 0
    assert jan["shares"]["natural_gas"] == pytest.approx(3_760_176 / 3_937_668.66, rel=1e-12)
    assert jan["shares"]["oil"] == pytest.approx(4_371.3 / 3_937_668.66, rel=1e-12)
    assert sum(jan["shares"].values()) == pytest.approx(1.0, rel=1e-12)
    assert jan["change"]["oil"] == pytest.approx(jan["shares"]["oil"], rel=1e-12)
    assert rows[0]["change"] is None


def test_decoupling_per_enterprise_and_industry(model, inputs, metered) -> None:
    pollutants = {"acme": {"2025-01": {"nox": 2.0}, "2026-01": {"nox": 1.5}}}
    rows = {(r.kind, r.scope): r for r in views.decoupling(model, inputs, metered, JAN25, JAN,
                                                             pollutants)}
    acme = rows[("enterprise", "acme")]
    # G: 42 000 × 31/365 = 3 567.1233 (park pro rata) -> 12 250 (recorded)
    # C: 0.9 × (657.944 + 1 930.402176) = 2 329.511552 -> 2 597.633898
    # e = (2 597.633898/2 329.511552 − 1) / (12 250/3 567.1233 − 1) = 0.115098/2.434138 = 0.047285
    assert acme.g0 == pytest.approx(42_000 * 31 / 365, rel=1e-12)
    assert acme.c0 == pytest.approx(2329.511552, abs=1e-6)
    assert acme.elasticity == pytest.approx(0.047285, abs=1e-6)
    assert acme.tapio_state == "weak_decoupling"
    # output up, NOx down, carbon up: non-synergistic decoupling (park guideline Appendix C)
    assert acme.synergy_state == "non_synergistic_decoupling"
    assert rows[("industry", "chemicals")].elasticity == pytest.approx(acme.elasticity)
    assert rows[("enterprise", "hengli")].tapio_state == "undefined"  # no 2025 data


def test_stirpat_uses_the_engine(model, inputs, metered) -> None:
    out = views.stirpat_drivers(model, inputs, metered, [JAN], alpha=0.1)
    obs = out["observations"]
    assert len(obs) == 3
    direct = stirpat.fit([o["co2e_t"] for o in obs],
                         {d: [o[d] for o in obs] for d in views.STIRPAT_DRIVERS}, 0.1)
    assert out["fit"] == direct.as_dict()


def test_recommendations(model, inputs, metered) -> None:
    recs = views.recommendations(
        intensities=benchmark.product_intensities(model, inputs, metered, JAN),
        peers=benchmark.peers(model, inputs, metered, JAN),
        electricity=views.electricity_share(model, metered, JAN), period="2026-01")
    by_rule = {r["rule"]: r for r in recs}
    # acme: (1 125.0482 − 1 000) kgce/t × 3 500 t = 437.67 tce to reach the benchmark
    assert by_rule["efficiency.above_benchmark"]["figures"]["gap_benchmark_tce"] == \
        pytest.approx(437.6687, abs=1e-4)
    # acme's purchased electricity 657.944 t of 2 597.634 t = 25.3 % >= 25 %: green power
    green = by_rule["structure.green_power"]
    assert green["scope"] == "acme"
    assert green["figures"]["share"] == pytest.approx(657.944 / 2597.6338976, rel=1e-9)
    # acme 0.3214 tce/10⁴ CNY is 1.59 × the park's 0.2026 (>= 1.5)
    assert by_rule["peers.intensity"]["scope"] == "acme"
    assert {r["scope"] for r in recs if r["rule"] == "structure.green_power"} == {"acme"}
