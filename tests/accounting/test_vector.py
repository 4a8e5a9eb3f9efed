"""The vectorised path: table built once from point specs, then gathers and multiplies."""

from __future__ import annotations

import numpy as np
import pytest

from accounting.errors import AccountingInputError, UomMismatchError
from accounting.resolve import resolve
from accounting.vector import PointSpec, build_table

SPECS = [
    PointSpec("boiler.gas", "natural_gas", "Nm3/h", "fuel", year=2022, region="jiangxi"),
    PointSpec("grid.in", "electricity", "kWh", "purchased", year=2022, region="jiangxi"),
    PointSpec("grid.out", "electricity", "kWh", "exported", year=2022, region="jiangxi"),
    PointSpec("crude.feed", "crude_oil", "t", "feedstock", year=2022, region="jiangxi"),
    PointSpec("roof.pv", "electricity_pv", "kW", "generated", year=2022, region="jiangxi"),
]


def test_apply_matches_resolve_and_hand_figures() -> None:
    table = build_table(SPECS)
    idx = table.indices(["boiler.gas", "grid.in", "grid.out", "crude.feed", "roof.pv", "grid.in"])
    qty = np.array([1000.0, 500.0, 100.0, 2.0, 300.0, 1.0])
    kgce, co2e = table.apply(idx, qty)
    # natural gas, Nm3 (the rate's integrated unit): 1000 Nm3 × 1.33 = 1330 kgce;
    # CO2 = 0.1 (1e4 Nm3) × 389.31 × 0.0153 × 0.99 × 44/12 = 2.162188809 t
    # electricity: 500 kWh × 0.1229 = 61.45 kgce; Jiangxi -> central grid 2022 0.5395 t/MWh
    #   -> 0.5 MWh × 0.5395 = 0.26975 t
    # exported: −100 × 0.1229 = −12.29 kgce; −0.1 MWh × 0.5395 = −0.05395 t
    # crude feedstock: 2 t × 1428.6 = 2857.2 kgce, no combustion CO2
    # PV generated on site: 300 kWh × 0.1229 = 36.87 kgce, no emissions
    np.testing.assert_allclose(kgce, [1330.0, 61.45, -12.29, 2857.2, 36.87, 0.1229])
    np.testing.assert_allclose(co2e, [2.162188809, 0.26975, -0.05395, 0.0, 0.0, 0.0005395])
    for row, spec in enumerate(SPECS):
        c = resolve(spec.carrier, spec.uom, spec.use, year=spec.year, region=spec.region)
        assert table.kgce_per_unit[row] == c.kgce_per_unit
        assert table.factor_id(row) == c.factor_id
    assert list(table.scope) == [1, 2, 2, 0, 0]
    assert table.category(2) == "exported_electricity"
    assert table.factor_id(1) == "grid.central.2022.mee-nbs"


def test_apply_into_buffers_and_totals() -> None:
    table = build_table(SPECS)
    idx = np.array([1, 1, 2], dtype=np.intp)
    qty = np.array([1000.0, 1000.0, 500.0])
    out_k, out_c = np.empty(3), np.empty(3)
    kgce, _ = table.apply(idx, qty, out_k, out_c)
    assert kgce is out_k
    q, k, c = table.totals(idx, qty)
    assert q[1] == 2000.0 and q[2] == 500.0 and q[0] == 0.0
    assert k[1] == pytest.approx(245.8)  # 2000 kWh × 0.1229
    assert c[2] == pytest.approx(-0.26975)  # 0.5 MWh × 0.5395, deducted


def test_bad_spec_names_the_point() -> None:
    bad = [PointSpec("m1", "electricity", "t", "purchased", year=2022)]
    with pytest.raises(UomMismatchError, match="point 'm1'"):
        build_table(bad)
    with pytest.raises(AccountingInputError, match="use 'exported' does not apply"):
        build_table([PointSpec("m2", "diesel", "t", "exported", year=2022)])
    table = build_table(SPECS)
    with pytest.raises(AccountingInputError, match="nope"):
        table.indices(["nope"])
