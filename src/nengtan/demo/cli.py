"""The ``demo`` command."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Mount ``nengtan demo``."""

    @app.command()
    def demo(
        duration: float | None = typer.Option(
            None, help="wall seconds to simulate (default: until Ctrl-C)", min=5
        ),
        speed: float = typer.Option(60.0, help="simulated seconds per wall second", min=1),
        park: Path | None = typer.Option(None, help="park file (default examples/park-small.yaml)"),
        console_port: int = typer.Option(8480, help="console port (a free one if taken)"),
        quiet: float = typer.Option(10.0, help="seconds without change that mean 'drained'"),
    ) -> None:
        """Bring up a fresh stack, run simulators, adapters, stream worker, sink and console on
        the example park with a live view; on exit reconcile the database with the simulator's
        truth and print the verdict (exit 1 if FAILED)."""
        from nengtan.demo.run import example_park, run_demo

        ok = run_demo(
            duration_s=duration, speed=speed, park_file=park or example_park(),
            console_port=console_port, quiet_s=quiet,
        )  # fmt: skip
        if not ok:
            raise typer.Exit(1)
