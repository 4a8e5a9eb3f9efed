"""``nengtan park check|generate`` through the real command line (exit codes and messages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from ingest.park import cli
from nengtan.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "park-small.yaml"


def _app() -> typer.Typer:
    app = typer.Typer()
    cli.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps "park" a sub-command
        pass

    return app


def test_check_accepts_the_example() -> None:
    result = CliRunner().invoke(_app(), ["park", "check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "ok: 3 enterprises" in result.output and "57 points" in result.output


def test_check_rejects_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text("utf-8").replace("carrier: natural_gas,\n", "carrier: gas,\n"))
    result = CliRunner().invoke(_app(), ["park", "check", str(bad)])
    assert isinstance(result.exception, ConfigError) and result.exception.exit_code == 2
    assert "enterprises[0](acme).points[5](acme.boiler1.gas): unknown carrier 'gas'" in str(
        result.exception
    )


def test_console_script_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: nengtan.park/1\nid: p\nenterprises: []\n", encoding="utf-8")
    launcher = (  # nengtan's main with only this command group: others' modules stay out
        "import sys, nengtan.cli as c; c.COMMAND_MODULES = ('ingest.park.cli',); "
        "c.main(sys.argv[1:])"
    )
    run = subprocess.run(
        [sys.executable, "-c", launcher, "park", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert "bad.yaml: enterprises: List should have at least 1 item" in run.stderr


def test_generate_then_check(tmp_path: Path) -> None:
    out = tmp_path / "gen.yaml"
    result = CliRunner().invoke(
        _app(), ["park", "generate", "--enterprises", "13", "--points", "1000", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(_app(), ["park", "check", str(out)])
    assert result.exit_code == 0, result.output
    assert "13 enterprises" in result.output
