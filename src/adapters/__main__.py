"""``python -m adapters PARK.yaml`` / ``python -m adapters bench``: the adapters commands
without the rest of the CLI."""

from __future__ import annotations

import sys

import typer

from adapters.cli import register
from nengtan.errors import NengtanError


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    try:
        args = sys.argv[1:]
        if args[:1] == ["bench"]:
            app(args=["adapters-bench", *args[1:]], standalone_mode=False)
        else:
            app(args=["adapters", *args], standalone_mode=False)
    except NengtanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
