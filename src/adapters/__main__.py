"""``python -m adapters PARK.yaml``: the adapters command without the rest of the CLI."""

from __future__ import annotations

import sys

import typer

from adapters.cli import register
from nengtan.errors import NengtanError


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    try:
        app(args=["adapters", *sys.argv[1:]], standalone_mode=False)
    except NengtanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
