"""``nengtan ingest manual FILE``: manual entry (手工填报) of readings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``ingest`` command group."""
    ingest_app = typer.Typer(
        help="Readings that do not come from an adapter.", no_args_is_help=True
    )
    app.add_typer(ingest_app, name="ingest")

    @ingest_app.command("manual")
    def manual(
        file: Annotated[Path, typer.Argument(help="CSV (point,ts,value[,uom][,q]) or YAML")],
        park_file: Annotated[Path, typer.Option("--park", help="the park YAML file")],
        by: Annotated[str | None, typer.Option(help="who entered them (else entered_by)")] = None,
        dry_run: Annotated[bool, typer.Option(help="validate only, publish nothing")] = False,
        timeout: Annotated[float, typer.Option(help="seconds to wait for Kafka")] = 30.0,
    ) -> None:
        """Validate and publish manually entered readings like any other source."""
        from ingest.intake import Intake
        from ingest.manual import enter
        from ingest.park.loader import load_park
        from ingest.publisher import Publisher
        from ingest.validate import Validator
        from nengtan.errors import ConfigError
        from nengtan.settings import load_settings

        park = load_park(park_file)
        settings = load_settings()
        publisher = Publisher(
            settings.bootstrap, settings.state_dir / "manual" / park.id, client_id="nengtan-manual"
        )
        intake = Intake(Validator.for_park(park), publisher)
        try:
            result = enter(file, by, intake, dry_run=dry_run)
            if not dry_run:
                publisher.start()
                delivered = publisher.drain(timeout)
        finally:
            publisher.close()
        verb = "valid" if dry_run else "published"
        typer.echo(f"{file}: {result.accepted} readings {verb} as device {result.device}")
        if not dry_run and not delivered:
            typer.echo(
                f"Kafka at {settings.bootstrap} did not acknowledge within {timeout:.0f} s; the "
                f"readings stay spooled in {publisher.spool.dir} and are sent on the next run",
                err=True,
            )
        if result.rejected:
            where = "" if dry_run else " (sent to nt.readings.dlq.v1)"
            raise ConfigError(
                f"{file}: {len(result.rejected)} readings rejected{where}: "
                + "; ".join(result.rejected[:5])
            )
