"""The ``bench`` command."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Mount ``nengtan bench``."""

    @app.command()
    def bench(
        quick: bool = typer.Option(False, help="a short run (about five minutes)"),
        workers: int = typer.Option(1, min=1, help="stream worker processes"),
        out: Path | None = typer.Option(None, help="results directory (default bench/results)"),
    ) -> None:
        """Drive a generated gateway park at increasing load through MQTT → Kafka → streams →
        PostgreSQL on a fresh local stack; print sustained readings/s, latency p50/p99 to the
        database row and to the alert, each stage's ceiling alone (MQTT adapter, stream worker
        ×1 and ×2, sink) and its CPU per reading, the raw COPY (text, binary) and Kafka limits
        and the ratios; save JSON."""
        from nengtan.bench.run import FULL, QUICK, run_bench

        run_bench(QUICK if quick else FULL, workers=workers, out_dir=out)
