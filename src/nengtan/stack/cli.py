"""``nengtan stack up | down | status``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount the ``stack`` command group."""
    stack = typer.Typer(help="Start, stop and inspect the local Kafka / PostgreSQL / Mosquitto stack.")
    app.add_typer(stack, name="stack")

    @stack.command()
    def status() -> None:
        """Report each service of the stack."""
        typer.echo("not yet")
