"""The OPC UA adapter reads what it missed from the server's history: values changed before it
started and while it was stopped arrive once each, in order, with their source timestamps; a
server without history still serves live values (real asyncua servers on loopback)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from uakit import NS, LoopThread, ua_park, wait

from adapters.opcua.adapter import OpcUaAdapter
from adapters.opcua.config import OpcUaConfig, OpcUaEndpointConfig, OpcUaNode
from adapters.opcua.watermarks import SCHEMA, Watermarks
from ingest.intake import Intake
from ingest.park.loader import parse_park
from ingest.publisher import Publisher
from ingest.validate import Validator
from nengtan.errors import ConfigError
from nengtan.stack.procs import free_port

Sent = Callable[[], tuple[list[Any], list[Any]]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PARK = ua_park("uah")


def _dt(ts_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ts_ms)


def _value(value: float, ts_ms: int) -> Any:
    from asyncua import ua

    return ua.DataValue(
        ua.Variant(value, ua.VariantType.Double),
        SourceTimestamp=_dt(ts_ms),  # type: ignore[arg-type]
        ServerTimestamp=_dt(ts_ms),  # type: ignore[arg-type]
    )


class UaServer(LoopThread):
    """An asyncua server in its own thread: two Double variables (fuel 100.0, temp 20.0 at
    ``initial_ms``), historized; without history, HistoryRead answers each tag
    BadHistoryOperationUnsupported (``"unsupported"``) or fails as a service
    (``"broken"``: the server's history raises, a ServiceFault BadInternalError)."""

    def __init__(self, port: int, initial_ms: int, *, history: bool | str = True) -> None:
        self.port = port
        self.history = history
        self.initial_ms = initial_ms
        super().__init__()
        self.vars: dict[str, Any] = {}
        self.history_reads = 0
        self.call(self._start())

    async def _start(self) -> None:
        from asyncua import ua
        from asyncua.server.server import Server

        self.server = Server()
        await self.server.init()
        self.server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}/test")
        idx = await self.server.register_namespace(NS)
        obj = await self.server.nodes.objects.add_object(idx, "dcs")
        for name, value in (("fuel", 100.0), ("temp", 20.0)):
            self.vars[name] = await obj.add_variable(f"ns={idx};s={name}", name, value)
            await self.server.write_attribute_value(
                self.vars[name].nodeid, _value(value, self.initial_ms)
            )
        manager = self.server.iserver.history_manager
        if self.history is True:
            await self.server.historize_node_data_change(
                list(self.vars.values()), period=timedelta(0), count=1000
            )
            real = manager.read_history

            async def counted(params: Any) -> Any:
                self.history_reads += 1
                return await real(params)

            manager.read_history = counted  # type: ignore[method-assign]
        else:
            broken = self.history == "broken"

            async def unsupported(params: Any) -> list[Any]:
                self.history_reads += 1
                if broken:
                    raise RuntimeError("history storage failed")
                code = ua.StatusCodes.BadHistoryOperationUnsupported
                return [
                    ua.HistoryReadResult(StatusCode=ua.StatusCode(code)) for _ in params.NodesToRead
                ]

            manager.read_history = unsupported  # type: ignore[method-assign]
        await self.server.start()

    def write(self, name: str, value: float, ts_ms: int) -> None:
        self.call(self.server.write_attribute_value(self.vars[name].nodeid, _value(value, ts_ms)))

    def kept(self, name: str) -> int:
        """Values of ``name`` in the history storage. asyncua historizes through an internal
        subscription publishing every 10 ms: a test that writes several values and connects at
        once waits for them (the simulator writes one value per tag and tick, seconds apart)."""
        storage = self.server.iserver.history_manager.storage
        return len(storage._datachanges[self.vars[name].nodeid])  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.call(self.server.stop())
        self.close()


def _config(port: int, **over: Any) -> OpcUaConfig:
    return OpcUaConfig(
        endpoints=[
            OpcUaEndpointConfig(
                endpoint=f"opc.tcp://127.0.0.1:{port}/test",
                namespace=NS,
                sampling_interval_ms=50,
                publishing_interval_ms=200,
                nodes=[
                    OpcUaNode(point="fuel", device="dcs"),
                    OpcUaNode(point="temp", device="dcs"),
                ],
            )
        ],
        backoff_initial_s=0.2,
        backoff_max_s=1.0,
        **over,
    )


class Collected:
    """Every reading the adapters handed over, in spool order."""

    def __init__(self, sent: Sent) -> None:
        self.sent = sent
        self.readings: list[dict[str, Any]] = []

    def __call__(self) -> list[dict[str, Any]]:
        batches, dlq = self.sent()
        assert dlq == []
        for b in batches:
            self.readings.extend(b["readings"])
        return self.readings

    def of(self, point: str) -> list[tuple[int, float]]:
        return [(r["ts"], r["value"]) for r in self() if r["point"] == point]


@pytest.mark.integration
def test_values_before_start_and_while_stopped_arrive_once_in_order(
    publisher: Publisher, sent: Sent, tmp_path: Path
) -> None:
    port = free_port()
    base = (time.time_ns() // 1_000_000) - 120_000
    server = UaServer(port, base - 1_000)
    park = parse_park(PARK, "uah")
    fuel = [(base - 1_000, 100.0)] + [(base + i * 1000, 200.0 + i) for i in range(10)]
    got = Collected(sent)
    adapter: OpcUaAdapter | None = None
    try:
        for ts, value in fuel[1:5]:  # before any adapter runs
            server.write("fuel", value, ts)
        assert wait(lambda: server.kept("fuel") == 5, 5)
        adapter = OpcUaAdapter(_config(port), Intake(Validator.for_park(park), publisher))
        adapter.start()
        assert wait(lambda: len(got.of("fuel")) >= 5, 15), got.readings
        server.write("fuel", fuel[5][1], fuel[5][0])  # live
        assert wait(lambda: len(got.of("fuel")) >= 6, 10), got.readings
        status = adapter.status()
        assert status["history"] == ["ok"] and status["history_values"] >= 5
        adapter.stop()
        for ts, value in fuel[6:9]:  # while no adapter runs
            server.write("fuel", value, ts)
        assert wait(lambda: server.kept("fuel") == 9, 5)
        # a new process: the watermarks come from the file beside the spool
        marks = json.loads((tmp_path / "opcua-watermarks.json").read_text(encoding="utf-8"))
        assert marks["schema"] == SCHEMA and marks["points"]["fuel"] == fuel[5][0]
        adapter = OpcUaAdapter(_config(port), Intake(Validator.for_park(park), publisher))
        adapter.start()
        assert wait(lambda: len(got.of("fuel")) >= 9, 15), got.readings
        for ts, value in fuel[9:]:
            server.write("fuel", value, ts)
        assert wait(lambda: len(got.of("fuel")) >= 11, 10), got.readings
        time.sleep(0.6)  # a few more publish windows: nothing else may come
        assert got.of("fuel") == fuel  # each once, in order, source timestamps kept
        # the initial value: from history, live, again from history and live after the
        # restart, and handed over once
        assert got.of("temp") == [(base - 1_000, 20.0)]
        assert adapter.status()["repeats"] >= 2  # the live initial values after history
    finally:
        if adapter is not None:
            adapter.stop()
        server.stop()


@pytest.mark.integration
def test_first_start_reads_only_the_lookback(publisher: Publisher, sent: Sent) -> None:
    port = free_port()
    now = time.time_ns() // 1_000_000
    server = UaServer(port, now - 400_000)  # initial values older than the lookback
    park = parse_park(PARK, "uah")
    got = Collected(sent)
    adapter = OpcUaAdapter(
        _config(port, history_lookback_s=60), Intake(Validator.for_park(park), publisher)
    )
    try:
        server.write("fuel", 1.0, now - 300_000)  # older than the lookback
        server.write("fuel", 2.0, now - 30_000)
        server.write("fuel", 3.0, now - 20_000)
        assert wait(lambda: server.kept("fuel") == 4, 5)
        adapter.start()
        assert wait(lambda: len(got.of("fuel")) >= 2, 15), got.readings
        time.sleep(0.6)
        assert got.of("fuel") == [(now - 30_000, 2.0), (now - 20_000, 3.0)]
        assert got.of("temp") == [(now - 400_000, 20.0)]  # older than the lookback, but live
    finally:
        adapter.stop()
        server.stop()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("mode", "status"),
    [("unsupported", "BadHistoryOperationUnsupported"), ("broken", "BadInternalError")],
)
def test_server_without_history_serves_live_values(
    publisher: Publisher, sent: Sent, caplog: pytest.LogCaptureFixture, mode: str, status: str
) -> None:
    port = free_port()
    now = time.time_ns() // 1_000_000
    server = UaServer(port, now - 10_000, history=mode)
    park = parse_park(PARK, "uah")
    got = Collected(sent)
    adapter = OpcUaAdapter(_config(port), Intake(Validator.for_park(park), publisher))
    caplog.set_level(logging.WARNING, logger="adapters.opcua.adapter")
    try:
        server.write("fuel", 5.0, now - 2_000)  # replaced before the adapter comes: not readable
        server.write("fuel", 6.0, now - 1_000)
        adapter.start()
        assert wait(lambda: len(got.of("fuel")) >= 1, 15), got.readings
        server.write("fuel", 7.0, now)
        assert wait(lambda: len(got.of("fuel")) >= 2, 10), got.readings
        assert got.of("fuel") == [(now - 1_000, 6.0), (now, 7.0)]
        assert adapter.status()["history"] == [status]
        # the server restarts: the adapter reconnects, asks again, and does not log again
        reads = server.history_reads
        server.stop()
        assert wait(lambda: adapter.status()["online"] == 0, 10)
        server = UaServer(port, now - 10_000, history=mode)
        assert wait(lambda: server.history_reads > 0, 20)
        server.write("fuel", 8.0, now + 1_000)
        assert wait(lambda: (now + 1_000, 8.0) in got.of("fuel"), 10), got.readings
        assert reads > 0
        warnings = [r for r in caplog.records if "no history" in r.getMessage()]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert status in warnings[0].getMessage()
    finally:
        adapter.stop()
        server.stop()


@pytest.mark.integration
def test_a_source_time_going_back_is_dropped_and_named(
    publisher: Publisher, sent: Sent, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    now = time.time_ns() // 1_000_000
    server = UaServer(port, now - 10_000)
    park = parse_park(PARK, "uah")
    got = Collected(sent)
    adapter = OpcUaAdapter(_config(port), Intake(Validator.for_park(park), publisher))
    caplog.set_level(logging.WARNING, logger="adapters.opcua.adapter")
    try:
        adapter.start()
        assert wait(lambda: len(got.of("fuel")) >= 1, 15), got.readings
        server.write("fuel", 50.0, now - 20_000)  # older than what was handed over
        server.write("fuel", 51.0, now)
        assert wait(lambda: len(got.of("fuel")) >= 2, 10), got.readings
        time.sleep(0.5)
        assert got.of("fuel") == [(now - 10_000, 100.0), (now, 51.0)]
        [warning] = [r.getMessage() for r in caplog.records if "before the last" in r.getMessage()]
        assert f"fuel: source time {now - 20_000} is before the last one handed over" in warning
        assert "opcua-watermarks.json" in warning
    finally:
        adapter.stop()
        server.stop()


def test_watermarks_move_forward_only_and_reject_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    marks = Watermarks(path)
    assert marks.is_new("p", 10) and not marks.is_new("p", 10) and not marks.is_new("p", 9)
    marks.save()
    assert not path.exists()  # nothing handed over yet: nothing to keep
    marks.hand_over("p", 10)
    marks.hand_over("p", 5)
    marks.save()
    again = Watermarks(path)
    assert again.handed == {"p": 10} and not again.is_new("p", 10) and again.is_new("p", 11)
    path.write_text('{"schema": "other", "points": {}}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not a nengtan\.opcua-watermarks/1 document"):
        Watermarks(path)
    path.write_text(json.dumps({"schema": SCHEMA, "points": {"p": "x"}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="ts of 'p' is not an int"):
        Watermarks(path)
