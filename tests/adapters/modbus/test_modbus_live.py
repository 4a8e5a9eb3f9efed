"""The Modbus adapter against real pymodbus servers on loopback, and a device that never
answers."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from adapters.modbus.adapter import ModbusAdapter
from adapters.modbus.codec import Encoding, encode
from adapters.modbus.config import ModbusConfig, ModbusDeviceConfig, PointRegister
from ingest.intake import Intake
from ingest.park.loader import parse_park
from ingest.publisher import Publisher
from ingest.validate import Validator
from nengtan.stack.procs import free_port

pytestmark = pytest.mark.integration

Sent = Callable[[], tuple[list[Any], list[Any]]]


class ModbusServer:
    """A pymodbus TCP server in its own thread; ``set`` changes holding registers (0-based)."""

    def __init__(self, units: list[int], port: int | None = None) -> None:
        from functools import partial

        from pymodbus.simulator.simdata import DataType, SimData
        from pymodbus.simulator.simdevice import SimDevice

        self.port = port or free_port()
        self.words: dict[int, dict[int, int]] = {u: {} for u in units}

        def block(kind: DataType) -> list[SimData]:
            return [SimData(0, count=300, values=0, datatype=kind)]

        bits, regs = DataType.BITS, DataType.REGISTERS
        self.devices = [
            SimDevice(
                u,
                simdata=(block(bits), block(bits), block(regs), block(regs)),
                action=partial(self._action, u),
            )
            for u in units
        ]
        self.loop = asyncio.new_event_loop()
        self.server: Any = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)

    async def _action(
        self,
        unit: int,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: Any,
    ) -> None:
        if function_code == 3:
            for addr, word in self.words[unit].items():
                if 0 <= addr - start_address < len(current_registers):
                    current_registers[addr - start_address] = word

    async def _start(self) -> None:
        from pymodbus.server import ModbusTcpServer

        self.server = ModbusTcpServer(self.devices, address=("127.0.0.1", self.port))
        self.serving = asyncio.ensure_future(self.server.serve_forever())
        await asyncio.sleep(0.2)

    def set(self, unit: int, address: int, words: list[int]) -> None:
        for i, word in enumerate(words):
            self.words[unit][address + i] = word

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)


class BlackHole:
    """Accepts TCP connections and never answers: a meter that stopped responding."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


PARK = {
    "schema": "nengtan.park/1",
    "id": "mb",
    "enterprises": [
        {
            "id": "e",
            "industry": "chemicals",
            "region": "CN-JS",
            "devices": [{"id": "good", "protocol": "mqtt"}, {"id": "dead", "protocol": "mqtt"}],
            "points": [
                {
                    "id": "good.kwh",
                    "kind": "counter",
                    "carrier": "electricity",
                    "uom": "kWh",
                    "use": "purchased",
                    "device": "good",
                },
                {
                    "id": "good.kw",
                    "kind": "rate",
                    "carrier": "electricity",
                    "uom": "kW",
                    "use": "purchased",
                    "device": "good",
                },
                {
                    "id": "dead.kwh",
                    "kind": "counter",
                    "carrier": "electricity",
                    "uom": "kWh",
                    "use": "purchased",
                    "device": "dead",
                },
            ],
        }
    ],
}


@pytest.fixture
def server() -> Iterator[ModbusServer]:
    srv = ModbusServer([1])
    yield srv
    srv.close()


def _device(name: str, port: int, points: list[PointRegister], **over: Any) -> ModbusDeviceConfig:
    args: dict[str, Any] = {
        "device": name,
        "port": port,
        "unit_id": 1,
        "interval_s": 0.5,
        "timeout_s": 0.4,
        "report": "all",
        "points": points,
    }
    args.update(over)
    return ModbusDeviceConfig(**args)


def _adapter(devices: list[ModbusDeviceConfig], publisher: Publisher) -> ModbusAdapter:
    park = parse_park(PARK, "mb")
    intake = Intake(Validator.for_park(park), publisher)
    adapter = ModbusAdapter(ModbusConfig(devices=devices, backoff_initial_s=0.2), intake)
    adapter.validate()
    return adapter


def test_reads_decodes_and_publishes_one_batch_per_cycle(
    server: ModbusServer, publisher: Publisher, sent: Sent
) -> None:
    kwh = Encoding("uint32", word_order="little", scale=0.01)
    server.set(1, 100, encode(1234.56, kwh))
    server.set(1, 102, encode(17.25, Encoding("float32")))
    points = [
        PointRegister(
            point="good.kwh",
            name="kwh",
            address=100,
            dtype="uint32",
            scale=0.01,
            word_order="little",
        ),
        PointRegister(point="good.kw", name="kw", address=102, dtype="float32"),
    ]
    adapter = _adapter([_device("good", server.port, points)], publisher)
    adapter.start()
    time.sleep(1.3)
    adapter.stop()
    adapter.stop()  # safe twice
    batches, dlq = sent()
    assert dlq == []
    assert len(batches) >= 2
    first = batches[0]
    assert first["device"] == "good" and first["_key"] == "good"
    assert {r["point"]: r["value"] for r in first["readings"]} == {
        "good.kwh": 1234.56,
        "good.kw": 17.25,
    }
    assert len({r["ts"] for r in first["readings"]}) == 1
    assert [b["seq"] for b in batches] == sorted({b["seq"] for b in batches})
    assert adapter.status()["online"] == 1


def test_report_change_publishes_each_value_once(
    server: ModbusServer, publisher: Publisher, sent: Sent
) -> None:
    enc = Encoding("float32")
    server.set(1, 0, encode(1.0, enc))
    points = [PointRegister(point="good.kwh", name="kwh", address=0, dtype="float32")]
    adapter = _adapter(
        [_device("good", server.port, points, report="change", interval_s=0.2, timeout_s=0.15)],
        publisher,
    )
    adapter.start()
    time.sleep(0.7)
    server.set(1, 0, encode(2.0, enc))
    time.sleep(0.7)
    adapter.stop()
    batches, _ = sent()
    assert [r["value"] for b in batches for r in b["readings"]] == [1.0, 2.0]


def test_a_dead_device_delays_no_other_device(
    server: ModbusServer, publisher: Publisher, sent: Sent
) -> None:
    hole = BlackHole()
    server.set(1, 0, encode(5.0, Encoding("float32")))
    good = _device(
        "good", server.port, [PointRegister(point="good.kwh", name="k", address=0, dtype="float32")]
    )
    dead = _device(
        "dead", hole.port, [PointRegister(point="dead.kwh", name="k", address=0, dtype="float32")]
    )
    adapter = _adapter([dead, good], publisher)
    adapter.start()
    time.sleep(4.0)
    adapter.stop()
    hole.close()
    batches, _ = sent()
    ts = [b["readings"][0]["ts"] for b in batches if b["device"] == "good"]
    assert all(b["device"] == "good" for b in batches)
    gaps = [b - a for a, b in itertools.pairwise(ts)]
    assert len(ts) >= 6
    # poll interval 0.5 s: no gap may exceed two intervals (one interval of delay at most)
    assert max(gaps) <= 1000, gaps
    status = adapter.states["dead"]
    assert status.failures >= 1 and not status.online
    assert status.last_error is not None


def test_exception_response_is_counted_and_other_requests_still_read(
    server: ModbusServer, publisher: Publisher, sent: Sent
) -> None:
    server.set(1, 0, encode(5.0, Encoding("float32")))
    points = [
        PointRegister(point="good.kwh", name="k", address=0, dtype="float32"),
        PointRegister(point="good.kw", name="w", address=0, dtype="float32", table="input"),
    ]
    # unit 9 does not exist on the server: every request answers with an exception
    adapter = _adapter([_device("good", server.port, points, unit_id=9)], publisher)
    adapter.start()
    time.sleep(1.2)
    adapter.stop()
    batches, dlq = sent()
    assert batches == [] and dlq == []
    state = adapter.states["good"]
    assert state.failures >= 1 and state.last_error is not None


def test_reconnects_after_the_server_comes_back(publisher: Publisher, sent: Sent) -> None:
    first = ModbusServer([1])
    port = first.port
    first.set(1, 0, encode(1.0, Encoding("float32")))
    points = [PointRegister(point="good.kwh", name="k", address=0, dtype="float32")]
    adapter = _adapter([_device("good", port, points, interval_s=0.3, timeout_s=0.2)], publisher)
    adapter.start()
    try:
        time.sleep(1.0)
        first.close()
        time.sleep(1.5)
        assert adapter.states["good"].online is False
        second = ModbusServer([1], port=port)  # the device is back, same address
    except Exception:
        adapter.stop()
        raise
    try:
        second.set(1, 0, encode(2.0, Encoding("float32")))
        deadline = time.monotonic() + 15
        seen: list[tuple[float, str]] = []
        while time.monotonic() < deadline and (2.0, "good") not in seen:
            time.sleep(0.3)
            batches, _ = sent()
            seen += [(r["value"], r["q"]) for b in batches for r in b["readings"]]
        # report=all: good reads of 1.0, one outage marker (last value, bad), then 2.0 again
        assert seen[0] == (1.0, "good")
        assert seen.count((1.0, "bad")) == 1
        assert seen.index((1.0, "bad")) < seen.index((2.0, "good"))
        assert {q for _v, q in seen} == {"good", "bad"}
        assert adapter.states["good"].online
    finally:
        adapter.stop()
        second.close()
