"""``nengtan park check|generate``: validate a park file, write large synthetic parks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``park`` command group."""
    park_app = typer.Typer(help="Park model: check a park file, generate synthetic parks.")

    @park_app.command("check")
    def check(park_file: Path = typer.Argument(..., help="the park YAML file")) -> None:
        """Validate a park file; a problem is reported with its path and exit code 2."""
        from ingest.park.loader import load_park

        t0 = time.perf_counter()
        park = load_park(park_file)
        ix = park.index
        elapsed = time.perf_counter() - t0
        typer.echo(
            f"{park_file}: ok: {len(ix.enterprises)} enterprises, {len(ix.units)} units, "
            f"{len(ix.devices)} devices, {len(ix.stacks)} stacks, {len(ix.points)} points, "
            f"{len(park.faults)} faults ({elapsed:.2f} s)"
        )

    @park_app.command("generate")
    def generate(
        enterprises: int = typer.Option(..., min=1, help="number of enterprises"),
        points: int = typer.Option(..., min=1, help="number of meter points (CEMS on top)"),
        seed: int = typer.Option(0, help="random seed (same seed, same park)"),
        out: Path | None = typer.Option(None, help="output file; default: standard output"),
    ) -> None:
        """Write a synthetic park (benchmarks go up to 1,300 enterprises and 100,000 points)."""
        from ingest.park.generate import generate_park_yaml
        from nengtan.errors import ConfigError

        if points < enterprises:
            raise ConfigError(f"--points {points} must be at least --enterprises {enterprises}")
        t0 = time.perf_counter()
        text = generate_park_yaml(enterprises, points, seed)
        if out is None:
            sys.stdout.write(text)
            return
        out.write_text(text, encoding="utf-8")
        typer.echo(
            f"{out}: {enterprises} enterprises, {points} meter points "
            f"({len(text) / 1e6:.1f} MB, {time.perf_counter() - t0:.2f} s)"
        )

    app.add_typer(park_app, name="park")
