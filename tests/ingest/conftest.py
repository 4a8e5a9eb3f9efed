"""Fixtures for ingest tests: a tiny park and a publisher whose spool stands in for Kafka."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.contract import TOPIC_READINGS
from ingest.park.loader import parse_park
from ingest.park.models import Park
from ingest.publisher import Publisher

TINY_PARK: dict[str, Any] = {
    "schema": "nengtan.park/1",
    "id": "tiny",
    "enterprises": [
        {
            "id": "ent1",
            "industry": "chemicals",
            "region": "CN-JS",
            "devices": [{"id": "gw1", "protocol": "mqtt"}],
            "points": [
                {
                    "id": "p.kwh",
                    "kind": "counter",
                    "carrier": "electricity",
                    "uom": "kWh",
                    "use": "purchased",
                    "device": "gw1",
                },
                {
                    "id": "p.kw",
                    "kind": "rate",
                    "carrier": "electricity",
                    "uom": "kW",
                    "use": "purchased",
                    "device": "gw1",
                },
                {"id": "p.pf", "kind": "gauge", "uom": "PF", "device": "gw1"},
                {
                    "id": "p.manual",
                    "kind": "counter",
                    "carrier": "diesel",
                    "uom": "t",
                    "use": "fuel",
                },
            ],
            "stacks": [
                {"id": "stk1", "mn": "MN0001", "species": ["co2", "so2", "flow"]},
            ],
        },
        {
            "id": "ent2",
            "industry": "steel",
            "region": "CN-JS",
            "devices": [{"id": "gw2", "protocol": "mqtt"}],
            "points": [
                {
                    "id": "q.kwh",
                    "kind": "counter",
                    "carrier": "electricity",
                    "uom": "kWh",
                    "use": "purchased",
                    "device": "gw2",
                }
            ],
        },
    ],
}


@pytest.fixture
def tiny_park() -> Park:
    return parse_park(TINY_PARK, "tiny")


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Publisher]:
    """A publisher never started: what it would send stays in its spool, readable in order."""
    pub = Publisher("127.0.0.1:1", tmp_path)
    yield pub
    pub.close()


def spooled(pub: Publisher) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of everything submitted so far, in order."""
    out = []
    while records := pub.spool.read(10_000, timeout_s=0.01):
        out.extend((r.topic, r.key, r.value) for r in records)
    return out


@pytest.fixture
def sent(publisher: Publisher) -> Callable[[], tuple[list[Any], list[Any]]]:
    """Call it to get (reading batches, DLQ records) submitted since the last call, decoded."""

    def take() -> tuple[list[Any], list[Any]]:
        batches: list[Any] = []
        dlq: list[Any] = []
        for topic, key, value in spooled(publisher):
            record = json.loads(value)
            record["_key"] = key.decode()
            (batches if topic == TOPIC_READINGS else dlq).append(record)
        return batches, dlq

    return take
