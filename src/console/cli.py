"""``nengtan console``: serve the API and dashboard (with alert delivery), issue API tokens,
load the registry, or run the delivery worker alone."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``console`` group."""
    console = typer.Typer(
        help="Operator console: HTTP API, web dashboard, alert delivery, API tokens.",
        invoke_without_command=True,
    )
    app.add_typer(console, name="console")

    @console.callback()
    def serve(
        ctx: typer.Context,
        park: Path | None = typer.Option(None, help="park file to load into the registry first"),
        host: str | None = typer.Option(None, help="listen address (default 127.0.0.1)"),
        port: int | None = typer.Option(None, help="listen port (default 8480; 0: any free)"),
        delivery: bool = typer.Option(True, help="run the alert delivery worker in-process"),
        migrate_first: bool = typer.Option(True, help="apply pending migrations at start"),
    ) -> None:
        """Serve the console (API under /api/v1, OpenAPI at /docs, dashboard at /)."""
        if ctx.invoked_subcommand is not None:
            return
        from console.server import serve as run

        run(park=park, host=host, port=port, delivery=delivery, migrate_first=migrate_first)

    token = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
    console.add_typer(token, name="token")

    @token.command("create")
    def token_create(
        role: str = typer.Option(..., help="admin | enterprise | auditor | vendor"),
        enterprise: str | None = typer.Option(None, help="for enterprise users and vendors"),
        name: str = typer.Option("", help="who holds it (shown in acknowledgements)"),
    ) -> None:
        """Issue a token; it is printed once (only its digest is stored)."""
        from console.auth import create_token
        from nengtan.settings import load_settings
        from store.migrate import migrate
        from store.queries import connect

        settings = load_settings()
        migrate(settings.dsn)
        with connect(settings.dsn) as conn:
            tid, tok = create_token(conn, role, enterprise, name or f"{role}:{enterprise or '*'}")
        typer.echo(f"token {tid} ({role}{' ' + enterprise if enterprise else ''}):")
        typer.echo(tok)

    @token.command("list")
    def token_list() -> None:
        """List tokens (never the tokens themselves)."""
        from console.auth import list_tokens
        from nengtan.settings import load_settings
        from store.queries import connect

        with connect(load_settings().dsn) as conn:
            for t in list_tokens(conn):
                state = "revoked" if t["revoked_at"] else "active"
                typer.echo(
                    f"{t['id']}\t{t['role']}\t{t['enterprise'] or '-'}\t{t['name']}\t{state}"
                )

    @token.command("revoke")
    def token_revoke(token_id: int = typer.Argument(..., help="the id `token list` shows")) -> None:
        """Revoke a token at once."""
        from console.auth import revoke_token
        from nengtan.errors import ConfigError
        from nengtan.settings import load_settings
        from store.queries import connect

        with connect(load_settings().dsn) as conn:
            if not revoke_token(conn, token_id):
                raise ConfigError(f"token {token_id}: no such active token")
        typer.echo(f"token {token_id} revoked")

    @console.command("registry")
    def registry(park: Path = typer.Argument(..., help="the park YAML file")) -> None:
        """Load (replace) the registry from a park file."""
        from console.registry import load_registry
        from ingest.park.loader import load_park
        from nengtan.settings import load_settings
        from store.migrate import migrate
        from store.queries import connect

        settings = load_settings()
        migrate(settings.dsn)
        with connect(settings.dsn) as conn:
            counts = load_registry(conn, load_park(park))
        typer.echo("registry: " + ", ".join(f"{v} {k}" for k, v in counts.items()))

    @console.command("deliver")
    def deliver(
        idle_exit: float | None = typer.Option(None, help="exit after this many idle seconds"),
    ) -> None:
        """Run the alert delivery worker alone (when the console runs with --no-delivery)."""
        import logging
        import signal
        import threading

        from console.delivery.worker import run_delivery
        from console.settings import load_console_settings
        from nengtan.settings import load_settings

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        settings = load_settings()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        counts = run_delivery(
            settings.bootstrap,
            settings.dsn,
            settings.mqtt_host_port,
            load_console_settings(),
            stop,
            idle_exit,
        )
        typer.echo(
            f"records {counts.records}, sent {counts.sent}, failed {counts.failed}, "
            f"already delivered {counts.skipped}, unreadable {counts.rejected}"
        )
