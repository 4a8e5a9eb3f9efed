"""Shared fixtures.

Integration tests use ``stack_settings``: a real Kafka broker, PostgreSQL and Mosquitto, brought
up once per test session on free loopback ports with a throwaway state directory, and stopped at
the session's end. Services named by ``NENGTAN_KAFKA_BOOTSTRAP`` / ``NENGTAN_PG_DSN`` /
``NENGTAN_MQTT_URL`` in the environment are used instead of starting local ones.
``NENGTAN_TEST_REQUIRE_TIMESCALE=1`` stops the session when the server has no TimescaleDB
(so a run meant to check the TimescaleDB mode cannot pass on plain PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from testkit import drain_topics, make_state_dir, private_settings

from nengtan.settings import Settings
from nengtan.stack.stack import Stack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Stack]:
    """The session's stack object (fault tests stop and start its services)."""
    state_dir = make_state_dir()
    stack = Stack(private_settings(state_dir))
    try:
        stack.up()
        if os.environ.get("NENGTAN_TEST_REQUIRE_TIMESCALE") and "TimescaleDB" not in (
            mode := stack.postgres.mode()
        ):
            pytest.exit(f"NENGTAN_TEST_REQUIRE_TIMESCALE is set but the server runs {mode}", 2)
        yield stack
    finally:
        stack.down()
        if not os.environ.get("NENGTAN_TEST_KEEP_STATE"):
            shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack_settings(local_stack: Stack) -> Settings:
    """Settings pointing at the session's real Kafka, PostgreSQL and Mosquitto."""
    return local_stack.settings


@pytest.fixture
def drained(stack_settings: Settings) -> Settings:
    """The session stack with every topic emptied of what earlier tests published (see
    ``testkit.drain_topics``): for tests whose new consumer groups read from the beginning."""
    drain_topics(stack_settings.bootstrap)
    return stack_settings


@pytest.fixture
def fresh_dsn(stack_settings: Settings) -> Iterator[Callable[[], str]]:
    """A factory of empty databases on the session's server; each is dropped at teardown
    (kept with NENGTAN_TEST_KEEP_STATE for a look after a failure). The drop retries for a
    while: a fault test may have just restarted PostgreSQL."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

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
        return
    for _ in range(30):
        try:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                for name in made:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except psycopg.OperationalError:
            time.sleep(1)


@pytest.fixture
def db(fresh_dsn: Callable[[], str]) -> str:
    """DSN of an empty database with every migration applied; dropped at teardown."""
    from store.migrate import migrate

    dsn = fresh_dsn()
    migrate(dsn)
    return dsn
