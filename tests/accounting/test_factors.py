"""Factor library: ids, provenance, versions kept apart, lookups by meaning."""

from __future__ import annotations

import pytest

from accounting.errors import UnknownFactorError
from accounting.factors import default_library


def test_every_factor_has_provenance_and_unique_id() -> None:
    lib = default_library()
    ids = [f.id for f in lib.all()]
    assert len(ids) == len(set(ids))
    for f in lib.all():
        assert f.provenance.source and f.provenance.status in ("confirmed", "unconfirmed")
        assert f.values and set(f.values) == set(f.units)


def test_ids_name_the_data_entry() -> None:
    lib = default_library()
    assert lib.get("grid.national.2022.mee-2023-43").values["ef"] == 0.5703
    assert lib.get("fuel.natural_gas.setA").values == {"ncv": 389.31, "cc": 0.0153, "of": 0.99}
    assert lib.get("gwp.AR6.ch4").values["gwp"] == 27.9
    assert lib.get("heat.default.mee").values["ef"] == 0.11


def test_disagreeing_sources_are_separate_versions() -> None:
    lib = default_library()
    # Ganzhou study OF 0.98 vs set A 0.99 for natural gas: both kept
    assert lib.get("fuel.natural_gas.ganzhou").values["of"] == 0.98
    assert lib.get("fuel.natural_gas.setA").values["of"] == 0.99
    # national 2022: carbon-market 0.5703 and statistical 0.5366 side by side
    national_2022 = {f.id: f.values["ef"] for f in lib.all("grid", "national")
                     if f.attrs["year"] == 2022}
    assert national_2022["grid.national.2022.mee-2023-43"] == 0.5703
    assert national_2022["grid.national.2022.mee-nbs"] == 0.5366


def test_grid_lookup_falls_back_province_region_national() -> None:
    lib = default_library()
    assert lib.grid("guangdong", 2023, "statistical", "location").id == "grid.south.2023.mee-nbs"
    assert lib.grid("south", 2021, "statistical", "location").id == "grid.south.2022.mee-nbs"
    assert lib.grid("atlantis", 2022, "statistical", "location").id == "grid.national.2022.mee-nbs"
    assert lib.grid(None, 2030, "carbon_market", "location").id == "grid.national.2022.mee-2023-43"


def test_unknown_lookups() -> None:
    lib = default_library()
    with pytest.raises(UnknownFactorError):
        lib.get("nope")
    with pytest.raises(UnknownFactorError, match="no GWP for gas 'xe'"):
        lib.gwp("AR5", "xe")
    with pytest.raises(UnknownFactorError, match="nf3"):
        lib.gwp("SAR", "nf3")
