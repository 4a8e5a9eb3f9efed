"""``python -m simulators PARK.yaml [options]``: the same as ``nengtan simulate``, for
machines that have the simulators but not the whole console script."""

from __future__ import annotations

import sys

import typer

from nengtan.errors import NengtanError
from simulators import cli


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    cli.register(app)
    try:
        app(sys.argv[1:], standalone_mode=False)
    except NengtanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
