"""The CLI speaks to people: a usage error is click's short usage message and exit status 2,
never a traceback, for every command of the tree; ``--version`` prints the version."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version

import pytest
import typer
from typer.main import get_command

from nengtan.cli import build_app, main


def _leaves(cmd: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    commands = getattr(cmd, "commands", None)
    if commands is None:
        yield path, cmd
        return
    for name, sub in sorted(commands.items()):
        yield from _leaves(sub, (*path, name))


LEAVES = list(_leaves(get_command(build_app())))


def _required(cmd: object) -> bool:
    return any(getattr(p, "required", False) for p in getattr(cmd, "params", []))


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and stderr of ``nengtan ARGV`` run in this process."""
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    else:
        code = 0
    return code, capsys.readouterr().err


def test_the_tree_has_commands() -> None:
    assert len(LEAVES) > 40


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=" ".join)
def test_unknown_option_is_a_usage_error(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run([*path, "--no-such-option"], capsys)
    assert code == 2
    assert "No such option: --no-such-option" in err
    assert "Usage: nengtan " + " ".join(path) in err
    assert "Traceback" not in err


@pytest.mark.parametrize("path", [p for p, c in LEAVES if _required(c)], ids=" ".join)
def test_missing_argument_is_a_usage_error(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(list(path), capsys)
    assert code == 2
    assert "Error: Missing" in err
    assert "Traceback" not in err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(["no-such-command"], capsys)
    assert code == 2
    assert "No such command 'no-such-command'" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--version"])
    assert capsys.readouterr().out.strip() == f"nengtan {version('nengtan')}"


def test_typer_exit_code_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command's own ``typer.Exit(n)`` ends the process with n."""
    from nengtan import cli

    app = typer.Typer()

    @app.command()
    def fail() -> None:
        raise typer.Exit(4)

    monkeypatch.setattr(cli, "build_app", lambda: app)
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 4
