"""Create the workers' own topics before Faust starts.

Faust creates changelog topics itself, but on a fresh cluster its partition check can run
before the broker lists the new topic (``PartitionsMismatch``, the agent crashes). Creating
the internal topics and the tables' changelogs first, with the readings topic's partition
count, and waiting until the broker lists them avoids that race.
"""

from __future__ import annotations

import contextlib
import time

from nengtan.errors import ServiceError
from streams.topics import INTERNAL_TOPICS

TABLES: tuple[str, ...] = ("nt-streams-device", "nt-streams-enterprise", "nt-streams-park")
"""The Faust tables of the app (their changelog is ``{app_id}-{table}-changelog``)."""


def changelog(app_id: str, table: str) -> str:
    return f"{app_id}-{table}-changelog"


def ensure_topics(bootstrap: str, app_id: str, partitions: int, timeout_s: float = 60.0) -> None:
    """Create missing internal and changelog topics and wait until all are listed."""
    from kafka.admin import KafkaAdminClient, NewTopic  # type: ignore[import-untyped]
    from kafka.errors import KafkaError  # type: ignore[import-untyped]

    wanted: dict[str, dict[str, str]] = {t: {} for t in INTERNAL_TOPICS}
    wanted.update({changelog(app_id, t): {"cleanup.policy": "compact"} for t in TABLES})
    deadline = time.monotonic() + timeout_s
    last_error = ""
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{app_id}-setup")
        except KafkaError as exc:
            last_error = str(exc)
            time.sleep(1.0)
            continue
        try:
            missing = [t for t in wanted if t not in set(admin.list_topics())]
            if not missing:
                return
            new = [
                NewTopic(
                    t, num_partitions=partitions, replication_factor=1, topic_configs=wanted[t]
                )
                for t in missing
            ]
            with contextlib.suppress(KafkaError):
                admin.create_topics(new, raise_errors=False)
        except KafkaError as exc:
            last_error = str(exc)
        finally:
            admin.close()
        time.sleep(0.5)
    raise ServiceError(f"Kafka at {bootstrap}: could not create the workers' topics ({last_error})")
