"""Shared fixtures.

Integration tests use ``stack_settings``: a real Kafka broker, PostgreSQL and Mosquitto, brought
up once per test session on free loopback ports with a throwaway state directory, and stopped at
the session's end. Services named by ``NENGTAN_KAFKA_BOOTSTRAP`` / ``NENGTAN_PG_DSN`` /
``NENGTAN_MQTT_URL`` in the environment are used instead of starting local ones.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from testkit import make_state_dir, private_settings

from nengtan.settings import Settings
from nengtan.stack.stack import Stack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Stack]:
    """The session's stack object (fault tests stop and start its services)."""
    state_dir = make_state_dir()
    stack = Stack(private_settings(state_dir))
    try:
        stack.up()
        yield stack
    finally:
        stack.down()
        if not os.environ.get("NENGTAN_TEST_KEEP_STATE"):
            shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack_settings(local_stack: Stack) -> Settings:
    """Settings pointing at the session's real Kafka, PostgreSQL and Mosquitto."""
    return local_stack.settings
