"""``nengtan stack up | down | status``: the local Kafka / PostgreSQL / Mosquitto stack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", help="state directory (default .nengtan/, or NENGTAN_STATE_DIR)"),
]


def _stack(state_dir: Path | None) -> Any:
    from nengtan.settings import load_settings
    from nengtan.stack.stack import Stack

    overrides = {"state_dir": state_dir} if state_dir is not None else {}
    return Stack(load_settings(**overrides))


def _print_status(stack: Any) -> bool:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Nengtan stack ({stack.settings.state_dir})")
    for column in ("service", "state", "endpoint", "pid", "detail"):
        table.add_column(column)
    healthy = True
    colours = {"running": "green", "external": "green", "stopped": "yellow", "unreachable": "red"}
    for st in stack.status():
        healthy &= st.state in ("running", "external")
        colour = colours[st.state]
        table.add_row(
            st.name, f"[{colour}]{st.state}[/]", st.endpoint, str(st.pid or ""), st.detail
        )
    Console().print(table)
    return healthy


def register(app: typer.Typer) -> None:
    """Mount the ``stack`` command group."""
    stack_app = typer.Typer(
        help="Start, stop and inspect the local Kafka / PostgreSQL / Mosquitto stack.",
        no_args_is_help=True,
    )
    app.add_typer(stack_app, name="stack")

    @stack_app.command()
    def up(state_dir: StateDir = None) -> None:
        """Start Kafka (KRaft), PostgreSQL (database nengtan) and Mosquitto on 127.0.0.1."""
        stack = _stack(state_dir)
        stack.up(echo=True)
        _print_status(stack)
        s = stack.settings
        typer.echo(
            f"Try: kcat -b {s.bootstrap} -L | psql {s.dsn if not s.pg_external else '$NENGTAN_PG_DSN'}"
            f" | mosquitto_sub -h {s.mqtt_host_port[0]} -p {s.mqtt_host_port[1]} -t '{'nt/v1/#' if s.mqtt_auth else '#'}'"
            + (" -u nengtan-ops -P <its line in the secrets file>" if s.mqtt_auth else "")
        )

    @stack_app.command()
    def down(state_dir: StateDir = None) -> None:
        """Stop every process the stack started (data is kept for the next ``up``)."""
        stack = _stack(state_dir)
        stack.down()
        typer.echo("stack stopped; data kept in " + str(stack.settings.state_dir))

    @stack_app.command()
    def check(state_dir: StateDir = None) -> None:
        """Smoke check: a real round trip through Kafka, PostgreSQL and MQTT."""
        from nengtan.stack.smoke import run_checks

        results = run_checks(_stack(state_dir).settings)
        for name, outcome in results.items():
            typer.echo(f"{name:10s} {outcome}")
        if any(o.startswith("FAILED") for o in results.values()):
            raise typer.Exit(1)
        typer.echo("smoke check OK")

    @stack_app.command()
    def status(state_dir: StateDir = None) -> None:
        """Report each service and the PostgreSQL mode (TimescaleDB or plain); exit 1 if not all up."""
        if not _print_status(_stack(state_dir)):
            raise typer.Exit(1)

    @stack_app.command("mqtt-accounts")
    def mqtt_accounts(
        park: Annotated[Path, typer.Option("--park", help="park file whose gateways get accounts")],
        state_dir: StateDir = None,
    ) -> None:
        """Give every enterprise of a park its MQTT gateway account (password generated into the
        secrets file, never printed) and reload the local broker's password and ACL files."""
        from ingest.park import load_park
        from nengtan.mqttauth.store import secrets_file

        stack = _stack(state_dir)
        names = stack.mosquitto.provision(load_park(park))
        typer.echo(f"{len(names)} MQTT accounts: {', '.join(names)}")
        typer.echo(f"passwords in {secrets_file(stack.settings)} (readable by this user only)")
