"""The accounting commands, run through the real ``nengtan`` entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accounting.factors import default_library
from nengtan.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "inventory-park.yaml"
STIRPAT = ROOT / "examples" / "stirpat-park.csv"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_account_example_json_has_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "account", str(EXAMPLE), "--json")
    assert code == 0
    doc = json.loads(out)
    assert {"periods", "decoupling"} <= doc.keys()
    p = doc["periods"][0]
    assert {"period", "energy_tce", "co2e_t", "by_scope", "by_category", "intensity",
            "lines"} <= p.keys()
    assert set(p["by_scope"]) == {"1", "2"}
    for line in p["lines"]:
        assert {"carrier", "quantity", "uom", "use", "energy_tce", "co2e_t",
                "factor_id"} <= line.keys()
    d = doc["decoupling"][0]
    assert set(d) == {"from", "to", "tapio_elasticity", "tapio_state", "synergy_state"}
    assert (d["from"], d["to"]) == ("2022", "2023")
    # totals are the sums of the lines
    assert p["co2e_t"] == pytest.approx(sum(ln["co2e_t"] for ln in p["lines"]))
    assert p["by_scope"]["1"] + p["by_scope"]["2"] == pytest.approx(p["co2e_t"])


def test_account_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "account", str(EXAMPLE))
    assert code == 0 and "period 2022" in out and "strong_decoupling" in out


BAD_CASES = [
    ("unknown carrier",
     "  - {carrier: coal, quantity: 1, uom: t, use: fuel}\n",
     r"periods\[0\] \(2022\)\.activities\[0\] \(coal\): unknown carrier 'coal'"),
    ("uom does not fit",
     "  - {carrier: electricity, quantity: 1, uom: t, use: purchased}\n",
     r"activities\[0\] \(electricity\): unit 't' \(mass\) does not fit carrier 'electricity'"),
    ("negative quantity",
     "  - {carrier: diesel, quantity: -5, uom: t, use: fuel}\n",
     r"periods\[0\] \(2022\)\.activities\[0\] \(diesel\)\.quantity: .*greater than or equal to 0"),
    ("unknown use",
     "  - {carrier: diesel, quantity: 5, uom: t, use: burnt}\n",
     r"activities\[0\] \(diesel\)\.use: "),
]


@pytest.mark.parametrize(("name", "activity", "pattern"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_invalid_inventory_exit_2_naming_file_entry_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, activity: str, pattern: str,
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "periods:\n- period: 2022\n  output_value: {value: 1, unit: 1e4 CNY}\n  activities:\n"
        + activity, encoding="utf-8",
    )
    code, _, err = run(capsys, "account", str(path))
    assert code == 2
    flat = " ".join(err.split())
    assert str(path) in flat or "bad.yaml" in flat
    import re
    assert re.search(pattern, flat), flat


def test_missing_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    code, _, err = run(capsys, "account", str(path))
    assert code == 2 and "periods: missing or empty" in err
    path.write_text("periods:\n- output_value: {value: 1, unit: CNY}\n  activities:\n"
                    "  - {carrier: diesel, quantity: 5, uom: t, use: fuel}\n", encoding="utf-8")
    code, _, err = run(capsys, "account", str(path))
    assert code == 2 and "periods[0].period: Field required" in " ".join(err.split())


def test_factors_show_every_factor_has_source_and_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for f in default_library().all():
        code, out, _ = run(capsys, "factors", "show", f.id, "--json")
        assert code == 0
        prov = json.loads(out)["provenance"]
        assert prov["source"] and prov["status"] in ("confirmed", "unconfirmed"), f.id


def test_factors_list_and_unknown_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "factors", "list", "--carrier", "diesel")
    assert code == 0 and "fuel.diesel.setA" in out and "kgce.diesel.gbt2589" in out
    code, _, err = run(capsys, "factors", "show", "grid.mars.2099")
    assert code == 2 and "unknown factor id 'grid.mars.2099'" in err


def test_stirpat_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "stirpat", str(STIRPAT), "--target", "co2e_t",
                       "--drivers", "output_value_1e4cny,energy_intensity_tce_per_1e4cny,area_km2",
                       "--alpha", "0.1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"coefficients", "intercept", "r2", "alpha"}
    assert doc["coefficients"]["area_km2"] == 0.0  # constant over all rows
    assert doc["alpha"] == 0.1


def test_stirpat_bad_column(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "analyze", "stirpat", str(STIRPAT), "--target", "co2e_t",
                       "--drivers", "gdp")
    assert code == 2 and "no column 'gdp'" in err


def test_bench_prints_a_figure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "factors", "bench", "--n", "10000", "--repeats", "1")
    assert code == 0 and "million conversions/s" in out
