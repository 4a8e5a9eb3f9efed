"""The OPC UA adapter against a real asyncua server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from uakit import NS, LoopThread, ua_park, wait

from adapters.opcua.adapter import OpcUaAdapter, epoch_ms, quality_of
from adapters.opcua.config import OpcUaConfig, OpcUaEndpointConfig, OpcUaNode
from ingest.intake import Intake
from ingest.park.loader import parse_park
from ingest.publisher import Publisher
from ingest.validate import Validator
from nengtan.stack.procs import free_port

Sent = Callable[[], tuple[list[Any], list[Any]]]

PARK = ua_park("ua")


def test_quality_from_status_severity() -> None:
    assert quality_of(0x00000000) == "good"
    assert quality_of(0x40000000) == "uncertain"  # Uncertain
    assert quality_of(0x80310000) == "bad"  # BadNoCommunication
    assert epoch_ms(datetime(2026, 1, 1, tzinfo=UTC)) == 1_767_225_600_000
    assert epoch_ms(datetime(2026, 1, 1)) == 1_767_225_600_000  # naive means UTC


class UaServer(LoopThread):
    """An asyncua server in its own thread with two float variables."""

    def __init__(self, port: int) -> None:
        self.port = port
        super().__init__()
        self.vars: dict[str, Any] = {}
        self.call(self._start())

    async def _start(self) -> None:
        from asyncua.server.server import Server

        self.server = Server()
        await self.server.init()
        self.server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}/test")
        idx = await self.server.register_namespace(NS)
        obj = await self.server.nodes.objects.add_object(idx, "dcs")
        for name, value in (("fuel", 100.0), ("temp", 20.0)):
            self.vars[name] = await obj.add_variable(f"ns={idx};s={name}", name, value)
        await self.server.start()

    def write(self, name: str, value: float, source: datetime) -> None:
        from asyncua import ua

        dv = ua.DataValue(ua.Variant(value, ua.VariantType.Double), SourceTimestamp=source)
        self.call(self.vars[name].write_value(dv))

    def stop(self) -> None:
        self.call(self.server.stop())
        self.close()


@pytest.mark.integration
def test_subscription_source_timestamps_and_resubscribe(publisher: Publisher, sent: Sent) -> None:
    port = free_port()
    server = UaServer(port)
    cfg = OpcUaConfig(
        endpoints=[
            OpcUaEndpointConfig(
                endpoint=f"opc.tcp://127.0.0.1:{port}/test",
                namespace=NS,
                sampling_interval_ms=50,
                publishing_interval_ms=200,
                nodes=[
                    OpcUaNode(point="fuel", device="dcs"),
                    OpcUaNode(point="temp", device="dcs", deadband=1.0),
                ],
            )
        ],
        backoff_initial_s=0.2,
        backoff_max_s=1.0,
    )
    park = parse_park(PARK, "ua")
    adapter = OpcUaAdapter(cfg, Intake(Validator.for_park(park), publisher))
    adapter.start()
    got: list[dict[str, Any]] = []

    def collect() -> list[dict[str, Any]]:
        batches, dlq = sent()
        assert dlq == []
        for b in batches:
            assert b["device"] == "dcs"
            got.extend(b["readings"])
        return got

    try:
        assert wait(lambda: len(collect()) >= 2, 15), got  # initial values of both tags
        # newer than the initial values' source time (an older one would be a repeat: dropped)
        t0 = datetime.now(UTC)
        server.write("fuel", 123.5, t0)
        server.write("temp", 20.4, t0)  # inside the 1.0 deadband: not reported
        server.write("temp", 25.0, t0)
        assert wait(lambda: any(r["value"] == 25.0 for r in collect()), 10), got
        fuel = [r for r in got if r["point"] == "fuel" and r["value"] == 123.5]
        assert fuel and fuel[0]["ts"] == epoch_ms(t0) and fuel[0]["q"] == "good"
        assert not any(r["value"] == 20.4 for r in got)
        # the server goes away and comes back: the adapter reconnects and re-subscribes
        server.stop()
        assert wait(lambda: adapter.status()["online"] == 0, 10)
        server = UaServer(port)
        assert wait(lambda: adapter.status()["online"] == 1, 20)
        t1 = datetime.now(UTC)
        server.write("fuel", 77.0, t1)
        assert wait(lambda: any(r["value"] == 77.0 for r in collect()), 10), got
    finally:
        adapter.stop()
        adapter.stop()
        server.stop()
