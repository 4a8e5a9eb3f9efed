"""``nengtan worker PARK.yaml``: run the stream processors for a park."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``worker`` and ``streams-bench`` commands."""
    register_bench(app)

    @app.command()
    def worker(
        park_file: Path = typer.Argument(..., help="the park file (nengtan.park/1)"),
        rules: Path | None = typer.Option(
            None, help="alert rules file (default: the bundled streams/data/alert_rules.yaml)"
        ),
        loglevel: str = typer.Option("warning", help="debug | info | warning | error"),
        app_id: str = typer.Option("nengtan-streams", help="Faust app id (Kafka consumer group)"),
        instance_id: str | None = typer.Option(
            None,
            help="static group membership (unique per worker process, the same across its"
            " restarts): a restarted worker gets its partitions back at once instead of after"
            " the dead member's 60 s session timeout and a rebalance",
        ),
        long_gap_s: float = typer.Option(
            3600.0,
            min=60.0,
            help="a counter or rate step across a longer gap (s) is booked as one interval"
            " record with its real start and end (not one record per minute), and raises a"
            " long_gap anomaly",
        ),
    ) -> None:
        """Run a stream worker: readings to consumption, emissions, CEMS hours and alerts.

        Start more workers with the same park and settings to share the partitions.
        """
        from ingest.park import load_park
        from nengtan.settings import load_settings
        from streams.app import create_app
        from streams.kafka_topics import ensure_topics
        from streams.points import build_point_table
        from streams.rules import load_rules
        from streams.runner import StreamWorker

        settings = load_settings()
        park = load_park(park_file)
        table = build_point_table(park)
        table.long_gap_ms = round(long_gap_s * 1000)
        ruleset = load_rules(rules)
        for year in (_this_year(),):
            table.coefficients(year)  # resolve factors now: a bad park fails before consuming
        ensure_topics(settings.bootstrap, app_id, settings.kafka_partitions)
        data_dir = settings.state_dir / "streams" / app_id
        data_dir.mkdir(parents=True, exist_ok=True)
        faust_app = create_app(
            park, table, ruleset, bootstrap=settings.bootstrap,
            partitions=settings.kafka_partitions, data_dir=data_dir, app_id=app_id,
            instance_id=instance_id,
        )  # fmt: skip
        worker = StreamWorker(faust_app, loglevel=loglevel.upper(), quiet=True)
        worker.execute_from_commandline()


def register_bench(app: typer.Typer) -> None:
    """Mount ``streams-bench``."""

    @app.command("streams-bench")
    def streams_bench(
        points: int = typer.Option(50, min=1, help="counter points per device (batch size)"),
        devices: int = typer.Option(200, min=1),
        steps: int = typer.Option(60, min=2, help="batches per device, 10 s apart"),
        broker: str | None = typer.Option(
            None,
            help="Kafka bootstrap: measure the output path (Faust Topic.send vs the "
            "worker's batched outbox) on this broker instead",
        ),
        records: int = typer.Option(20_000, min=1_000, help="records per path (--broker)"),
    ) -> None:
        """Readings per second through the device processor on one core (no Kafka): the
        per-batch and the columnar path on the same input. With ``--broker``: records per
        second and CPU per record of the worker's output path, old and new."""
        if broker is not None:
            from streams.send_bench import run as run_send

            s = run_send(broker, records)
            typer.echo(
                f"Faust Topic.send: {s['records']:,.0f} records, {s['faust_records_per_s']:,.0f} "
                f"records/s, {s['faust_cpu_us_per_record']:.1f} us CPU per record"
            )
            typer.echo(
                f"outbox (batch per partition): {s['outbox_records_per_s']:,.0f} records/s, "
                f"{s['outbox_cpu_us_per_record']:.1f} us CPU per record"
            )
            return
        from streams.bench import run

        r = run(points, devices, steps)
        typer.echo(
            f"per batch (process_batch): {r['readings']:,.0f} readings in {r['seconds']:.2f} s: "
            f"{r['readings_per_s']:,.0f} readings/s, {r['cpu_us_per_reading']:.2f} us CPU per "
            f"reading, {r['batches_per_s']:,.0f} batches/s, {r['records_out']:,.0f} records out"
        )
        typer.echo(
            f"columnar (process_group, groups of 500 batches): {r['group_seconds']:.2f} s: "
            f"{r['group_readings_per_s']:,.0f} readings/s, "
            f"{r['group_cpu_us_per_reading']:.2f} us CPU per reading, "
            f"{r['group_records_out']:,.0f} records out"
        )


def _this_year() -> int:
    from datetime import UTC, datetime

    return datetime.now(tz=UTC).year
