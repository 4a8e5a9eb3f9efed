"""``nengtan db migrate`` and ``nengtan sink``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``db`` group and the ``sink`` command."""
    db = typer.Typer(help="The PostgreSQL/TimescaleDB schema.", no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command()
    def migrate(
        mode: str = typer.Option(
            "auto", help="auto (TimescaleDB when the server has it) | timescale | plain"
        ),
    ) -> None:
        """Apply pending schema migrations (versioned .sql files shipped with Nengtan)."""
        from nengtan.errors import ConfigError
        from nengtan.settings import load_settings
        from store.migrate import migrate as run

        if mode not in ("auto", "timescale", "plain"):
            raise ConfigError(f"--mode {mode!r}: expected auto, timescale or plain")
        used, applied = run(load_settings().dsn, mode)
        typer.echo(
            f"mode: {used}; applied: {', '.join(applied) if applied else 'none (up to date)'}"
        )

    @db.command("prune-dlq")
    def prune_dlq(
        days: int = typer.Option(400, min=1, help="delete dead letters older than this"),
    ) -> None:
        """Delete old dead-letter rows (what TimescaleDB's retention policy does by itself)."""
        from nengtan.settings import load_settings
        from store.queries import connect
        from store.queries import prune_dlq as run

        with connect(load_settings().dsn) as conn:
            typer.echo(f"deleted {run(conn, days)} dead-letter rows")

    @app.command()
    def sink(
        group_id: str = typer.Option("nengtan-sink", help="Kafka consumer group"),
        max_records: int = typer.Option(5000, min=1, help="records per database transaction"),
        idle_exit: float | None = typer.Option(
            None, help="exit after this many seconds without records (for batch replays)"
        ),
        migrate_first: bool = typer.Option(True, help="apply pending migrations at start"),
    ) -> None:
        """Store the output topics and raw readings in PostgreSQL (offsets stored with the rows,
        so a replay writes nothing twice; Kafka offsets committed after the database commit)."""
        import logging

        from nengtan.settings import load_settings
        from store.migrate import migrate as run_migrate
        from store.sink import run_sink

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        settings = load_settings()
        if migrate_first:
            run_migrate(settings.dsn)
        run_sink(settings.bootstrap, settings.dsn, group_id=group_id, max_records=max_records,
                 idle_exit_s=idle_exit)  # fmt: skip
