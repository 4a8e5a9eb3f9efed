"""Adapter tests share the ingest fixtures (tiny park, spool-backed publisher)."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location(
    "nengtan_ingest_test_fixtures", Path(__file__).parents[1] / "ingest" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

tiny_park = _fixtures.tiny_park
publisher = _fixtures.publisher
sent = _fixtures.sent
TINY_PARK = _fixtures.TINY_PARK


@pytest.fixture
def tiny_park_raw() -> dict[str, Any]:
    """A fresh copy of the tiny park's file contents, for tests that change a field."""
    return copy.deepcopy(TINY_PARK)
