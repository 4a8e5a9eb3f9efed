"""Tapio states, synergy states, energy structure."""

from __future__ import annotations

import pytest

from accounting import analysis


@pytest.mark.parametrize(
    ("c0", "c1", "g0", "g1", "e", "state"),
    [
        # ΔG = +10 %: ΔC −5 % -> e = −0.5
        (100, 95, 100, 110, -0.5, "strong_decoupling"),
        # ΔC +5 % -> 0.5
        (100, 105, 100, 110, 0.5, "weak_decoupling"),
        # ΔC +10 % -> 1.0; ΔC +12 % -> 1.2 (upper bound still coupling)
        (100, 110, 100, 110, 1.0, "expansive_coupling"),
        (100, 112, 100, 110, 1.2, "expansive_coupling"),
        # ΔC +8 % -> 0.8 exactly: coupling starts at 0.8
        (100, 108, 100, 110, 0.8, "expansive_coupling"),
        # ΔC +20 % -> 2.0
        (100, 120, 100, 110, 2.0, "expansive_negative_decoupling"),
        # ΔG = −10 %: ΔC +5 % -> −0.5
        (100, 105, 100, 90, -0.5, "strong_negative_decoupling"),
        # ΔC −5 % -> 0.5; −10 % -> 1.0; −20 % -> 2.0
        (100, 95, 100, 90, 0.5, "weak_negative_decoupling"),
        (100, 90, 100, 90, 1.0, "recessive_coupling"),
        (100, 80, 100, 90, 2.0, "recessive_decoupling"),
    ],
)
def test_tapio_states(c0: float, c1: float, g0: float, g1: float, e: float, state: str) -> None:
    got_e, got_state = analysis.tapio(c0, c1, g0, g1)
    assert got_e == pytest.approx(e)
    assert got_state == state


def test_tapio_undefined_without_output_change() -> None:
    assert analysis.tapio(100, 90, 50, 50) == (None, "undefined")


def test_synergy_states() -> None:
    p_down, p_up = ({"so2": 10.0}, {"so2": 9.0}), ({"so2": 10.0}, {"so2": 11.0})
    assert analysis.synergy_state(100, 110, 50, 45, *p_down) == "synergistic_decoupling"
    assert analysis.synergy_state(100, 110, 50, 55, *p_down) == "non_synergistic_decoupling"
    assert analysis.synergy_state(100, 110, 50, 45, *p_up) == "non_synergistic_decoupling"
    assert analysis.synergy_state(100, 110, 50, 55, *p_up) == "not_decoupled"
    assert analysis.synergy_state(100, 95, 50, 45, *p_down) == "negative_decoupling"
    assert analysis.synergy_state(100, 110, 50, 45, {}, {}) is None
    # one pollutant up among several: pollutants did not go down
    assert not analysis.pollutants_decreased({"so2": 10, "nox": 5}, {"so2": 8, "nox": 6})


def test_energy_structure_shares() -> None:
    shares = analysis.energy_structure([("coal", 60.0), ("electricity", 30.0), ("coal", 10.0),
                                        ("oil", 0.0)])
    # coal 70 of 100, electricity 30 of 100
    assert shares == {"coal": pytest.approx(0.7), "electricity": pytest.approx(0.3)}
