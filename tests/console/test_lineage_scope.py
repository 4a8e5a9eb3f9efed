"""Lineage answers another enterprise's existing source exactly as a missing one (404, same
words): a 403 would confirm to a tenant that the other's source exists."""

from __future__ import annotations

from typing import Any

import pytest
from consolekit import ConsoleEnv

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", ["source", "stack"])
def test_foreign_and_missing_sources_look_the_same(
    client: Any, console_env: ConsoleEnv, kind: str
) -> None:
    h = console_env.auth("acme")
    foreign_id = "hengli.grid.kwh" if kind == "source" else "hengli-stk1"
    foreign = client.get(f"/api/v1/lineage/{kind}/{foreign_id}", headers=h)
    missing = client.get(f"/api/v1/lineage/{kind}/no-such-source", headers=h)
    assert foreign.status_code == missing.status_code == 404
    strip = lambda r, name: r.json()["detail"].replace(name, "?")  # noqa: E731
    assert strip(foreign, foreign_id) == strip(missing, "no-such-source")
    own = client.get("/api/v1/lineage/source/acme.grid.kwh", headers=h)
    assert own.status_code == 200
