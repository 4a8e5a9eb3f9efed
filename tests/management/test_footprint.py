"""Golden product footprints (GB/T 24067 cradle-to-gate) and the green-certificate difference."""

from __future__ import annotations

import pytest

from management.footprint import footprint
from management.periods import parse_period
from management.supply import Submission

JAN = parse_period("2026-01")


def test_ammonia_footprint_golden(model, inputs, metered) -> None:
    f = footprint(model, inputs, metered, "acme", "synthetic ammonia", JAN)
    lines = {ln.item: ln for ln in f.lines}
    # per t of ammonia (3 500 t in January):
    #   process water 1.2 m3 × 0.3 (library placeholder)                    =    0.36 kg
    #   boiler gas 892 800/3 500 = 255.0857 Nm3 × (2.162188809 + 0.30)      =  628.0692
    #   feedstock 1 934 400/3 500 = 552.6857 Nm3 × (0 + 0.30 upstream)      =  165.8057
    #   diesel 3/3 500 t × 3 095.9096 kg/t                                  =    2.6536
    #   electricity 1 240 000/3 500 = 354.2857 kWh × 0.6205 (LCA grid)      =  219.8357
    #   process (reforming CO2, own figure)                                  = 1000.0
    #   grid-only total                                                      = 2016.7228
    assert lines["process_water"].kgco2e == pytest.approx(0.36, rel=1e-12)
    assert lines["acme.boiler1.gas"].kgco2e == pytest.approx(628.0692, abs=1e-4)
    assert lines["acme.feed.gas_total"].kgco2e == pytest.approx(165.8057, abs=1e-4)
    assert lines["acme.manual.diesel"].kgco2e == pytest.approx(2.6536, abs=1e-4)
    assert f.grid_only_kgco2e == pytest.approx(2016.7228, abs=1e-4)
    # green certificates: 500 MWh wind against 1 240 MWh purchased -> g = 0.403226;
    # EF = (1 − g) × 0.6205 + g × 0.0336 = 0.383847 kg/kWh -> 135.9914 kg electricity
    assert f.green.share == pytest.approx(500 / 1240, rel=1e-12)
    assert lines["acme.grid.kwh"].kgco2e == pytest.approx(135.9914, abs=1e-4)
    assert f.kgco2e == pytest.approx(1932.8800, abs=1e-4)


def test_green_certificate_difference_is_the_documented_amount(model, inputs, metered) -> None:
    f = footprint(model, inputs, metered, "acme", "synthetic ammonia", JAN)
    # docs/management.md: CFP_green − CFP_grid = − e_el × g × (EF_grid − EF_tech)
    e_el = 1_240_000 / 3500                        # kWh purchased per t
    g = 500 / 1240
    expected = -e_el * g * (0.6205 - 0.0336)       # = −142.857 × 0.5869 = −83.8429 kg/t
    assert f.green_delta_kgco2e == pytest.approx(expected, rel=1e-12)
    assert f.green_delta_kgco2e == pytest.approx(-83.8429, abs=1e-4)
    no_certs = inputs.model_copy(update={"green_certificates": []})
    grid = footprint(model, no_certs, metered, "acme", "synthetic ammonia", JAN)
    assert grid.kgco2e == pytest.approx(f.grid_only_kgco2e, rel=1e-12)
    assert f.kgco2e - grid.kgco2e == pytest.approx(expected, rel=1e-12)


def test_supplier_figure_takes_precedence(model, inputs, metered) -> None:
    base = footprint(model, inputs, metered, "sunrise", "canned food", JAN)
    tin = {ln.item: ln for ln in base.lines}["tinplate"]
    # library placeholder: 0.08 t × 2 500 kg/t = 200 kg
    assert tin.kgco2e == pytest.approx(200.0, rel=1e-12)
    sub = Submission(supplier="steelco", enterprise="sunrise", material="tinplate",
                     period="2026", uom="kg", kgco2e_per_unit=2.1, basis="EPD 2025-17")
    f = footprint(model, inputs, metered, "sunrise", "canned food", JAN, [sub])
    tin = {ln.item: ln for ln in f.lines}["tinplate"]
    # supplier 2.1 kg per kg = 2 100 kg/t × 0.08 t = 168 kg
    assert tin.kgco2e == pytest.approx(168.0, rel=1e-12)
    assert tin.basis == "supplier:steelco (EPD 2025-17)"
    assert f.kgco2e == pytest.approx(base.kgco2e - 32.0, rel=1e-12)


def test_footprint_report_states_basis_and_quality(model, inputs, metered) -> None:
    from management.fpreport import render_markdown

    text = render_markdown(footprint(model, inputs, metered, "acme", "synthetic ammonia", JAN))
    assert "**Footprint: 1,932.8800 kgCO2e per 1 t** (grid electricity only: 2,016.7228;" in text
    assert "share g = 0.403226" in text
    assert "Unconfirmed library figures: process_water, acme.boiler1.gas, acme.feed.gas_total." \
        in text
    assert "GB/T 24067, cradle to gate" in text
