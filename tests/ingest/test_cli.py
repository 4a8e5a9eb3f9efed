"""``nengtan ingest manual --dry-run``: validates without Kafka, errors name file and line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from typer.testing import CliRunner

from ingest.cli import register

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "park-small.yaml"


def _yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop", hidden=True)
    def noop() -> None:  # a second command keeps `ingest` a group
        """Unused."""

    return app


def test_dry_run_accepts_a_valid_file(tmp_path: Path) -> None:
    f = tmp_path / "diesel.csv"
    f.write_text(
        "point,ts,value,uom\nacme.manual.diesel,2026-10-31T16:00:00Z,1.25,t\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        _app(),
        ["ingest", "manual", str(f), "--park", str(EXAMPLE), "--by", "wang.li", "--dry-run"],
        env={"NENGTAN_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.exit_code == 0, result.output
    assert "1 readings valid as device manual:wang.li" in result.output


def test_dry_run_names_rejected_rows(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(f"point,ts,value\nacme.grid.kwh,{_yesterday()},5\n", encoding="utf-8")
    result = CliRunner().invoke(
        _app(),
        ["ingest", "manual", str(f), "--park", str(EXAMPLE), "--by", "li", "--dry-run"],
        env={"NENGTAN_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.exit_code != 0
    assert "manual entry is only for points without a device" in str(result.exception)
