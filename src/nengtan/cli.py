"""The ``nengtan`` console script: one entry point that mounts each package's commands.

Each package that offers commands has a ``cli`` module with a ``register(app)`` function;
``COMMAND_MODULES`` lists them. Heavy imports (faust, asyncua, ...) stay inside the command
functions so ``nengtan --help`` is fast. A ``NengtanError`` is printed as one line, never as a
traceback, and sets the exit code.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from nengtan.errors import NengtanError

COMMAND_MODULES: tuple[str, ...] = (
    "nengtan.stack.cli",
    "accounting.cli",
    "ingest.park.cli",
    "ingest.cli",
    "adapters.cli",
    "simulators.cli",
    "streams.cli",
    "store.cli",
    "management.cli",
    "evidence.cli",
    "reports.cli",
    "console.cli",
    "nengtan.demo.cli",
    "nengtan.bench.cli",
    "nengtan.pki.cli",
)

err_console = Console(stderr=True)


def build_app() -> typer.Typer:
    """The Typer application with every package's commands mounted."""
    app = typer.Typer(
        name="nengtan",
        help="Nengtan (能碳): energy-carbon management for industrial enterprises and parks.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ) -> None:
        """Nengtan (能碳): energy-carbon management for industrial enterprises and parks."""

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors become one line on stderr and a non-zero exit code."""
    app = build_app()
    try:
        code = app(args=argv, prog_name="nengtan", standalone_mode=False)
    except NengtanError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except (typer.Exit, typer.Abort, typer.TyperException) as exc:
        sys.exit(_usage_exit(exc))
    except Exception as exc:  # a command that calls (unvendored) click directly
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
    # without standalone mode, click returns the code of ``typer.Exit`` instead of exiting
    if isinstance(code, int) and code != 0:
        sys.exit(code)


def _usage_exit(exc: Exception) -> int:
    """Show a usage error the way click does (usage line, then ``Error: ...``) and return its
    exit status (2 for usage errors).

    Typer vendors its own copy of click (``typer._click``), so its usage errors are not
    ``click.ClickException``; they derive from the public ``typer.TyperException`` instead, and
    carry click's ``show()`` and ``exit_code``.
    """
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    if isinstance(exc, typer.Abort):
        err_console.print("Aborted.")
        return 130
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    else:
        err_console.print(f"Error: {exc}", highlight=False, soft_wrap=True)
    return int(getattr(exc, "exit_code", 2))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"nengtan {version('nengtan')}")
        raise typer.Exit()


if __name__ == "__main__":
    main()
