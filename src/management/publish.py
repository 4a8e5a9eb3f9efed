"""Publishing management alerts on ``nt.alerts.v1`` (key: enterprise id), acknowledged by all
in-sync replicas before the alert state is saved, so a crash re-sends rather than loses."""

from __future__ import annotations

from typing import Any

from ingest.contract import TOPIC_ALERTS, Alert, dumps
from nengtan.errors import ServiceError


def publish_alerts(bootstrap: str, records: list[tuple[str, Alert]], timeout_s: float = 30.0,
                   topic: str = TOPIC_ALERTS) -> int:  # fmt: skip
    """Send and flush; returns how many. ``ServiceError`` when Kafka does not acknowledge."""
    if not records:
        return 0
    from kafka import KafkaProducer  # type: ignore[import-untyped]
    from kafka.errors import KafkaError  # type: ignore[import-untyped]

    producer: Any = KafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                  client_id="nengtan-management")
    try:
        futures = [producer.send(topic, key=ent.encode(), value=dumps(a.model_dump()))
                   for ent, a in records]
        producer.flush(timeout=timeout_s)
        for fut in futures:
            fut.get(timeout=timeout_s)
    except KafkaError as exc:
        raise ServiceError(f"Kafka at {bootstrap}: alerts not acknowledged: {exc}") from exc
    finally:
        producer.close(timeout=5)
    return len(records)
