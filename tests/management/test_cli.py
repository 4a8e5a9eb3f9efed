"""``nengtan mgmt`` commands on a metered CSV (no services)."""

from __future__ import annotations

import csv
import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from management.cli import register
from nengtan.errors import ConfigError

PARK_FILE = Path(__file__).resolve().parents[2] / "examples" / "park-small.yaml"
INPUTS = str(resources.files("management") / "data" / "examples" / "demo-park.yaml")


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture()
def metered_csv(tmp_path: Path, metered_until) -> Path:
    path = tmp_path / "metered.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["point", "date", "quantity"])
        for p, days in sorted(metered_until(date(2026, 1, 31)).daily.items()):
            for d, q in sorted(days.items()):
                w.writerow([p, d.isoformat(), repr(q)])
    return path


def _run(*args: str) -> object:
    res = CliRunner().invoke(_app(), ["mgmt", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_benchmark_and_footprint_commands(metered_csv: Path) -> None:
    out = _run("benchmark", str(PARK_FILE), "--inputs", INPUTS, "--period", "2026-01",
               "--metered", str(metered_csv))
    acme = next(r for r in out["products"] if r["enterprise"] == "acme")  # type: ignore[index]
    assert acme["kgce_per_unit"] == pytest.approx(1125.0482, abs=1e-4)
    fp = _run("footprint", str(PARK_FILE), "--inputs", INPUTS, "--enterprise", "acme",
              "--product", "synthetic ammonia", "--period", "2026-01",
              "--metered", str(metered_csv))
    assert fp["green_delta_kgco2e"] == pytest.approx(-83.8429, abs=1e-4)  # type: ignore[index]


def test_bad_metered_csv_names_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("point,date,quantity\nacme.grid.kwh,2026-01-01,lots\n")
    with pytest.raises(ConfigError, match=r"m.csv: row 2"):
        CliRunner().invoke(_app(), ["mgmt", "benchmark", str(PARK_FILE), "--inputs", INPUTS,
                                    "--period", "2026-01", "--metered", str(bad)],
                           catch_exceptions=False)
