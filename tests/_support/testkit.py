"""Helpers shared by tests (importable as ``testkit``: pytest puts ``tests/_support/`` on the path)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nengtan.settings import Settings, load_settings
from nengtan.stack.procs import free_port


def make_state_dir(prefix: str = "nengtan-test-") -> Path:
    """A world-traversable temporary state dir (PostgreSQL runs as another user when we are root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("NENGTAN_TEST_TMP", "/tmp")))
    path.chmod(0o755)
    return path


def private_settings(state_dir: Path) -> Settings:
    """Settings for a private stack on free ports under ``state_dir``."""
    return load_settings(
        state_dir=state_dir,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        pg_port=free_port(),
        mqtt_port=free_port(),
    )
