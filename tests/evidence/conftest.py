"""A fresh, migrated database per test on the session's real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from nengtan.settings import Settings
from store.migrate import migrate


@pytest.fixture
def db(stack_settings: Settings) -> Iterator[str]:
    """DSN of an empty database with every migration applied; dropped at teardown."""
    name = f"nt_ev_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(stack_settings.dsn)
    params["dbname"] = name
    dsn = make_conninfo(**params)
    migrate(dsn)
    yield dsn
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
