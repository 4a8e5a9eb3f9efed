"""``nengtan worker PARK.yaml``: run the stream processors for a park."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``worker`` command."""

    @app.command()
    def worker(
        park_file: Path = typer.Argument(..., help="the park file (nengtan.park/1)"),
        rules: Path | None = typer.Option(
            None, help="alert rules file (default: the bundled streams/data/alert_rules.yaml)"
        ),
        loglevel: str = typer.Option("warning", help="debug | info | warning | error"),
        app_id: str = typer.Option("nengtan-streams", help="Faust app id (Kafka consumer group)"),
    ) -> None:
        """Run a stream worker: readings to consumption, emissions, CEMS hours and alerts.

        Start more workers with the same park and settings to share the partitions.
        """
        import faust

        from ingest.park import load_park
        from nengtan.settings import load_settings
        from streams.app import create_app
        from streams.kafka_topics import ensure_topics
        from streams.points import build_point_table
        from streams.rules import load_rules

        settings = load_settings()
        park = load_park(park_file)
        table = build_point_table(park)
        ruleset = load_rules(rules)
        for year in (_this_year(),):
            table.coefficients(year)  # resolve factors now: a bad park fails before consuming
        ensure_topics(settings.bootstrap, app_id, settings.kafka_partitions)
        data_dir = settings.state_dir / "streams" / app_id
        data_dir.mkdir(parents=True, exist_ok=True)
        faust_app = create_app(
            park, table, ruleset, bootstrap=settings.bootstrap,
            partitions=settings.kafka_partitions, data_dir=data_dir, app_id=app_id,
        )  # fmt: skip
        worker = faust.Worker(faust_app, loglevel=loglevel.upper(), quiet=True)
        worker.execute_from_commandline()


def _this_year() -> int:
    from datetime import UTC, datetime

    return datetime.now(tz=UTC).year
