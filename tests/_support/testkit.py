"""Helpers shared by tests (importable as ``testkit``: pytest puts ``tests/_support/`` on the path)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from nengtan.settings import Settings, load_settings
from nengtan.stack.procs import free_port

ADAPTERS = [sys.executable, "-m", "adapters"]
"""The adapters' command, as a subprocess (SIGKILL tests kill it)."""
SIMULATE = [
    sys.executable,
    "-c",
    "import sys, typer; from simulators.cli import register; app = typer.Typer(); "
    "register(app); app(args=sys.argv[1:])",
]
"""The simulators' command alone (not the whole CLI: a test should not depend on others)."""


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


def drain_topics(bootstrap: str) -> None:
    """Move the start of every topic on the broker to its end (Kafka's DeleteRecords).

    The session's broker is shared by every test, and a new worker or sink group reads its
    input from the earliest offset: without this, a pipeline test would first plough through
    every reading the tests before it published (minutes, on a loaded machine). Faust's table
    changelogs are compacted (the broker refuses DeleteRecords on them) and each is read only by
    its own app id, so they are left alone."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.admin import KafkaAdminClient

    probe = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        parts = [
            TopicPartition(t, p)
            for t in sorted(probe.topics())
            if not t.startswith("__") and not t.endswith("-changelog")  # compacted: not deletable
            for p in sorted(probe.partitions_for_topic(t) or ())
        ]
        ends = probe.end_offsets(parts)
        todo = {tp: off for tp, off in ends.items() if off > 0}
        if todo:
            admin.delete_records(todo, timeout_ms=30_000)
    finally:
        probe.close()
        admin.close()
