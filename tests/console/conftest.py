"""Console fixtures (the data and helpers live in ``consolekit``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from consolekit import PARK_FILE, ConsoleEnv, make_env, new_database, seed, serve

from console.auth import create_token
from console.registry import load_registry
from ingest.park.loader import load_park
from nengtan.settings import Settings
from store.migrate import migrate


@pytest.fixture(scope="module")
def console_env(stack_settings: Settings) -> Iterator[ConsoleEnv]:
    """A migrated database with the example park, the seeded results and a token per role."""
    name, dsn = new_database(stack_settings.dsn)
    migrate(dsn)
    env = make_env(stack_settings, dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_registry(conn, load_park(PARK_FILE))
        seed(conn)
        for who, role, ent in (
            ("admin", "admin", None),
            ("auditor", "auditor", None),
            ("acme", "enterprise", "acme"),
            ("hengli", "enterprise", "hengli"),
            ("vendor", "vendor", "acme"),
        ):
            env.tokens[who] = create_token(conn, role, ent, who)[1]
    yield env
    with psycopg.connect(stack_settings.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def client(console_env: ConsoleEnv) -> Iterator[Any]:
    """The app on the seeded database, in-process (lifespan run: pool opened and closed)."""
    from fastapi.testclient import TestClient

    from console.app import create_app

    app = create_app(console_env.settings, console_env.console_settings)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def console_url(console_env: ConsoleEnv) -> Iterator[str]:
    """A running console (uvicorn in a thread) on the seeded database."""
    with serve(console_env) as url:
        yield url
