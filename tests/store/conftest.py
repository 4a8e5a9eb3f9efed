"""Fresh databases on the session's real PostgreSQL (one per test, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from nengtan.settings import Settings


@pytest.fixture
def fresh_dsn(stack_settings: Settings) -> Iterator[Callable[[], str]]:
    """A factory of empty databases on the session's server; each is dropped at teardown."""
    admin_dsn = stack_settings.dsn
    made: list[str] = []

    def make() -> str:
        name = f"nt_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        params = conninfo_to_dict(admin_dsn)
        params["dbname"] = name
        return make_conninfo(**params)

    yield make
    if os.environ.get("NENGTAN_TEST_KEEP_STATE"):
        return  # kept for a look after a failure
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
