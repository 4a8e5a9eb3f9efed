"""``nengtan pki init``: the local CA and certificates (see ``nengtan.pki.issue``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    pki_app = typer.Typer(
        help="Certificates for MQTT TLS and OPC UA security.", no_args_is_help=True
    )
    app.add_typer(pki_app, name="pki")

    @pki_app.command()
    def init(
        state_dir: Annotated[Path | None, typer.Option("--state-dir")] = None,
        force: Annotated[bool, typer.Option("--force", help="replace existing ones")] = False,
    ) -> None:
        """Make a CA, a server and a client certificate under {state_dir}/pki (keys 0600)."""
        from nengtan.pki.issue import init_pki
        from nengtan.settings import load_settings

        settings = load_settings(**({"state_dir": state_dir} if state_dir else {}))
        paths = init_pki(settings.state_dir, force=force)
        typer.echo(f"CA {paths.ca_cert}; server and client certificates in {paths.root}")
