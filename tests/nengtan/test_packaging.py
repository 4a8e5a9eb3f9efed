"""Packaging metadata that pip would otherwise warn about at every install."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_license_is_an_spdx_expression() -> None:
    """``project.license`` as a table is deprecated in setuptools (PEP 639): a string it is."""
    project = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
