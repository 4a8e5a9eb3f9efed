"""Modbus TCP meters: one pymodbus server per (host, port), one unit id per device.

Each device serves its profile's register map as one read-only block from the profile's first
address (holding and input registers read the same block). Registers are encoded with
``adapters.modbus.codec`` — the functions the Modbus adapter decodes with. A register bound to
a point shows the point's emitted value; registers carrying the same quantity in another
encoding mirror it; the rest hold the profile's default. Values change only at the device's
ticks (``update_s`` simulated seconds); an offline device answers exception 0x0B (gateway
target failed to respond) until it is back.

A profile with a ``load_profile`` block also gets its ring (``adapters.modbus.ring``): at each
tick the device emits, the sample — sequence, the simulated device time the emission log
records (``ts``, clock skew included), and every register of the map as it now shows — is
written to its slot, then the header. Until a device has emitted its first tick it answers
exception 0x06 (device busy), so no poller ever reads the zero registers of a meter that is
not set up yet.
"""

from __future__ import annotations

import asyncio
import logging
from array import array
from dataclasses import dataclass, field

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from adapters.modbus.codec import CodecError, Encoding, encode
from adapters.modbus.config import default_poll_s, load_profile_config
from adapters.modbus.ring import SEQ_MODULUS, RingLayout
from ingest.park.models import Device
from ingest.park.profiles import DeviceProfile
from nengtan.errors import ConfigError, ServiceError
from simulators.engine import MeterTick, modbus_encoding
from simulators.faults import FaultPlan

log = logging.getLogger(__name__)


@dataclass
class _Slot:
    offset: int  # register offset inside the device block
    encoding: Encoding
    modulus: float | None


@dataclass
class ModbusDeviceSim:
    """The register image of one simulated meter."""

    device: Device
    profile: DeviceProfile
    base: int
    image: array[int]  # 16-bit words: 2 bytes a register, rings included
    online: bool = True
    ready: bool = False  # set by the first emitted tick; before it: exception 0x06
    # quantity -> registers carrying it; point index in its group -> quantity
    slots: dict[str, list[_Slot]] = field(default_factory=dict)
    point_quantity: dict[int, str] = field(default_factory=dict)
    ring: RingLayout | None = None
    seq: int = 0  # sequence of the latest load-profile sample
    fields: list[tuple[int, int]] = field(default_factory=list)  # (offset, count) per register

    @classmethod
    def build(cls, device: Device, profile: DeviceProfile) -> ModbusDeviceSim:
        base, end = profile.span()
        sim = cls(device, profile, base, array("H", bytes(2 * (end - base))))
        for reg in profile.registers:
            enc = modbus_encoding(device, profile, reg)
            slot = _Slot(reg.address - base, enc, reg.modulus)
            sim.slots.setdefault(reg.measures, []).append(slot)
            sim.fields.append((slot.offset, reg.count))
            sim._put(slot, reg.default)
        binding = device.modbus
        assert binding is not None
        lp = load_profile_config(
            profile,
            binding.word_order or profile.word_order,
            binding.byte_order or profile.byte_order,
        )
        sim.ring = lp.layout() if lp is not None else None
        return sim

    def _put(self, slot: _Slot, value: float) -> None:
        if slot.modulus is not None:
            value = value % slot.modulus
        try:
            words = encode(value, slot.encoding)
        except CodecError as exc:
            log.warning("%s: register %d: %s", self.device.id, self.base + slot.offset, exc)
            return
        self.image[slot.offset : slot.offset + len(words)] = array("H", words)

    def set_quantity(self, quantity: str, value: float) -> None:
        """Show ``value`` in every register carrying ``quantity``."""
        for slot in self.slots.get(quantity, []):
            self._put(slot, value)

    def record_sample(self, ts_ms: int) -> None:
        """Freeze the registers as they now show into the ring's next slot, then the header;
        the device is ready (serves requests) from its first sample on."""
        self.ready = True
        ring = self.ring
        if ring is None:
            return
        self.seq = (self.seq + 1) % SEQ_MODULUS
        values = [w for off, n in self.fields for w in self.image[off : off + n]]
        words = ring.encode_sample(self.seq, ts_ms, values)
        at = ring.slot_address(self.seq) - self.base
        self.image[at : at + len(words)] = array("H", words)
        head = ring.address - self.base
        self.image[head : head + 2] = array("H", ring.encode_header(self.seq))

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus hook on every request: serve the current image, or fail when offline."""
        if not self.online:
            return ExcCodes.GATEWAY_NO_RESPONSE
        if not self.ready:  # no value emitted yet: never serve the zeros of an unset meter
            return ExcCodes.DEVICE_BUSY
        lo = address - start_address
        src = address - self.base
        current_registers[lo : lo + count] = self.image[src : src + count].tolist()
        return None

    def sim_device(self) -> SimDevice:
        # zeros of the right size: ``action`` serves every request from ``image`` (a values
        # list would cost pymodbus ~5 ms per device with a 3,800-register ring)
        block = SimData(
            address=self.base,
            count=len(self.image),
            values=0,
            datatype=DataType.REGISTERS,
            readonly=True,
        )
        return SimDevice(
            id=self.device.modbus.unit_id if self.device.modbus else 0,
            simdata=[block],
            action=self.action,
        )


class ModbusFarm:
    """Every Modbus device of a park, on as many servers as (host, port) pairs."""

    def __init__(self, devices: list[Device], profiles: dict[str, DeviceProfile], plan: FaultPlan):
        self.plan = plan
        self.sims: dict[str, ModbusDeviceSim] = {}
        self.by_endpoint: dict[tuple[str, int], list[ModbusDeviceSim]] = {}
        for dev in devices:
            if dev.modbus is None:
                continue
            sim = ModbusDeviceSim.build(dev, profiles[dev.modbus.profile])
            self.sims[dev.id] = sim
            key = (dev.modbus.host, dev.modbus.port)
            self.by_endpoint.setdefault(key, []).append(sim)
        self.servers: list[ModbusTcpServer] = []
        self._bound: dict[int, dict[int, str]] = {}  # group index -> point index -> quantity

    async def start(self) -> None:
        for host, port in self.by_endpoint:
            if host not in ("127.0.0.1", "localhost"):
                raise ConfigError(f"modbus {host}:{port}: simulators bind 127.0.0.1 only")
        for (host, port), sims in self.by_endpoint.items():
            server = ModbusTcpServer([s.sim_device() for s in sims], address=(host, port))
            try:
                await server.serve_forever(background=True)
            except (OSError, RuntimeError) as exc:
                raise ServiceError(f"modbus {host}:{port}: cannot listen: {exc}") from exc
            self.servers.append(server)
            log.info("modbus: %d devices on %s:%d", len(sims), host, port)

    async def stop(self) -> None:
        """Stop serving one default poll period (plus a second) after the last tick, not at
        once: the pollers' next read then still fetches the final samples of the rings."""
        if self.servers:
            await asyncio.sleep(self.final_serve_s())
        for server in self.servers:
            await server.shutdown()  # type: ignore[no-untyped-call]
        self.servers.clear()

    def final_serve_s(self) -> float:
        """The longest default poll period of the farm's devices, plus one second."""
        return 1.0 + max((default_poll_s(s.device.update_s) for s in self.sims.values()), default=0.0)

    def apply(self, tick: MeterTick) -> None:
        """Show a tick's emitted values; switch devices on- and offline."""
        g = tick.group
        for di, dev in enumerate(g.devices):
            sim = self.sims.get(dev.id)
            if sim is None:
                continue
            sim.online = not self.plan.is_offline(dev.id, tick.t_ms)
            if not tick.emitting[di]:
                continue
            a, b = g.dev_slices[di]
            for i in range(a, b):
                binding = g.bindings[i]
                if binding is not None:
                    sim.set_quantity(binding.register.measures, float(tick.values[i]))
            sim.record_sample(tick.t_ms + g.dev_skew_ms[di])  # the ts the emission log records
