"""Streams-internal topics (beside the contract's in ``ingest.contract``).

They carry what the workers tell each other and the sink; they are not a contract for other
packages and may change with the streams package.
"""

from __future__ import annotations

from store.tables import TOPIC_CEMS_HOURLY

TOPIC_FACTS = "nt.streams.facts.v1"
"""Key: enterprise id. ``{"kind": "seen", "device", "ts"}``: a device's data reached ``ts``."""
TOPIC_PARK = "nt.streams.park.v1"
"""Key: park id. ``{"enterprise", "start_ms", "co2e_t"}``: an enterprise's judged minute total."""
INTERNAL_TOPICS: tuple[str, ...] = (TOPIC_FACTS, TOPIC_PARK, TOPIC_CEMS_HOURLY)

__all__ = ["INTERNAL_TOPICS", "TOPIC_CEMS_HOURLY", "TOPIC_FACTS", "TOPIC_PARK"]
