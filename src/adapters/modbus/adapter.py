"""Modbus TCP adapter: polls each device per its profile, one task and connection per device.

Every device runs its own poll loop on the adapter's asyncio loop with its own TCP connection,
so a device that stops answering only delays itself (its requests time out after
``timeout_s``) and never the others. Each cycle reads the planned requests (``plan``: merged
contiguous registers, FC3 holding / FC4 input), decodes with the profile's data type, scale
and word/byte order, and hands one batch to the intake, stamped with the cycle's start time.

Quality: a value read and decoded is ``good``. A failed request (timeout, exception response
such as 0x0B "gateway target failed to respond", lost connection) yields no new value for its
points; instead, once per outage, each of them is published with its last good value and
``q: bad`` (evidence of the outage, never accounted), the failure is counted in the status and
the connection is re-established with exponential backoff. The first good read afterwards is
published whatever ``report`` says. A float register holding NaN
or infinity (a meter's "no value") is rejected to the DLQ by validation like any other input.
With ``report: change`` a point is republished only when its value changes (or after
``heartbeat_s``), so each value a meter holds appears once, at the first poll that saw it.

Devices whose profile has a load-profile ring (``load_profile``; layout and sequence rules in
``adapters.modbus.ring``) are read differently: each cycle reads the ring's header, then every
sample newer than the last one handed over (consecutive slots merged up to ``max_registers``),
and hands them over as one batch stamped with each sample's **device time** — every sample,
whatever ``report`` says. The last handed-over sequence is kept per device in the state dir
(``adapters.modbus.sequences``), so a restarted adapter continues where it stopped. Samples
the ring no longer holds (device or adapter away for more than ``depth`` samples) are logged
and counted as a gap with their sequence range (``status()['lost_samples']``); the contract's
quality flags have no "gap" value, so the samples around a gap stay ``good``. A ring device
publishes no outage marker: what it logged while unreachable is read from the ring afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.base import Adapter, Backoff
from adapters.modbus.codec import CodecError
from adapters.modbus.config import (
    POLL_FRACTION,
    ModbusConfig,
    ModbusDeviceConfig,
    PointRegister,
    default_poll_s,
    load_profile_config,
)
from adapters.modbus.plan import Request, plan_requests
from adapters.modbus.ring import HEADER_REGISTERS, SEQ_MODULUS, RingLayout, Sample, pending
from adapters.modbus.sequences import FILE_NAME, SequenceStore
from ingest.intake import Intake, now_ms
from ingest.spool import SpoolFull
from nengtan.errors import ConfigError

if TYPE_CHECKING:
    from ingest.park.models import Park
    from nengtan.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class DeviceState:
    """Per-device counters shown in the status."""

    polls: int = 0
    batches: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    online: bool = False
    last_error: str | None = None
    last_poll_ms: int = 0
    last_values: dict[str, tuple[float, int]] = field(default_factory=dict)
    samples: int = 0  # load-profile samples handed over
    lost_samples: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # the latest few, inclusive


class _ReadError(Exception):
    """A request failed (timeout, lost connection, exception response); the text says which."""


class ModbusAdapter(Adapter):
    """See the module docstring."""

    protocol = "modbus"
    config: ModbusConfig

    def __init__(self, config: ModbusConfig, intake: Intake, park: Park | None = None) -> None:
        super().__init__(config, intake, park)
        self.plans: dict[str, list[Request]] = {
            d.device: plan_requests(d.points, max_registers=d.max_registers, readable=d.readable)
            for d in config.devices
        }
        self.states: dict[str, DeviceState] = {d.device: DeviceState() for d in config.devices}
        self.rings: dict[str, RingLayout] = {
            d.device: d.load_profile.layout() for d in config.devices if d.load_profile
        }
        # per ring device: (point, field index in a sample); ``validate`` names a missing one
        self._ring_points: dict[str, list[tuple[str, int]]] = {}
        for d in config.devices:
            if d.load_profile is not None:
                index = {f.name: i for i, f in enumerate(d.load_profile.fields)}
                self._ring_points[d.device] = [
                    (p.point, index[p.name]) for p in d.points if p.name in index
                ]
        state_dir = config.state_dir
        self.sequences = SequenceStore(state_dir / FILE_NAME if state_dir else None)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._seq = now_ms()

    @classmethod
    def configs_for_park(cls, park: Park, settings: Settings) -> list[Any]:
        devices = device_configs(park)
        state_dir = settings.state_dir / "adapters" / park.id
        return [ModbusConfig(devices=devices, state_dir=state_dir)] if devices else []

    def validate(self) -> None:
        for dev in self.config.devices:
            if dev.timeout_s >= dev.interval_s:
                raise ConfigError(
                    f"modbus device {dev.device!r}: timeout_s {dev.timeout_s} must be below "
                    f"interval_s {dev.interval_s} so a dead device cannot stretch its cycle"
                )
            lp = dev.load_profile
            if lp is None:
                continue
            try:
                self.rings[dev.device].runs([0], dev.max_registers)
                for p in dev.points:
                    lp.field_index(p.name)
            except CodecError as exc:
                raise ConfigError(f"modbus device {dev.device!r}: load_profile: {exc}") from None
            except KeyError as exc:
                raise ConfigError(
                    f"modbus device {dev.device!r}: register {exc.args[0]!r} is not in its "
                    f"load-profile samples"
                ) from None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # failures are in our status
        self._thread = threading.Thread(target=self._run, name="modbus", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def status(self) -> dict[str, Any]:
        states = list(self.states.values())
        return {
            "devices": len(states),
            "online": sum(s.online for s in states),
            "polls": sum(s.polls for s in states),
            "failures": sum(s.failures for s in states),
            "samples": sum(s.samples for s in states),
            "lost_samples": sum(s.lost_samples for s in states),
        }

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._device_loop(d)) for d in self.config.devices]
        while not self._stopping.is_set():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- one device ----------------------------------------------------------------------------
    async def _device_loop(self, dev: ModbusDeviceConfig) -> None:
        from pymodbus.client import AsyncModbusTcpClient

        state = self.states[dev.device]
        backoff = Backoff(self.config.backoff_initial_s, 2.0, self.config.backoff_max_s).delays()
        client = AsyncModbusTcpClient(
            dev.host, port=dev.port, timeout=dev.timeout_s, retries=0, reconnect_delay=0
        )
        next_at = time.monotonic()
        try:
            while True:
                if not client.connected:
                    ok = False
                    with contextlib.suppress(Exception):
                        ok = await asyncio.wait_for(client.connect(), dev.timeout_s * 2)
                    if not ok:
                        self._failed(state, dev, f"cannot connect to {dev.host}:{dev.port}")
                        if dev.load_profile is None:
                            self._hand_over(dev, state, now_ms(), [], [p.point for p in dev.points])
                        await asyncio.sleep(next(backoff))
                        next_at = time.monotonic()
                        continue
                    backoff = Backoff(
                        self.config.backoff_initial_s, 2.0, self.config.backoff_max_s
                    ).delays()
                if dev.load_profile is None:
                    await self.poll_once(client, dev)
                else:
                    await self.poll_ring(client, dev)
                next_at += dev.interval_s
                delay = next_at - time.monotonic()
                if delay < 0:  # fell behind (slow device): skip missed slots, keep the phase
                    next_at += (-delay // dev.interval_s + 1) * dev.interval_s
                    delay = next_at - time.monotonic()
                await asyncio.sleep(delay)
        finally:
            client.close()

    async def poll_once(self, client: Any, dev: ModbusDeviceConfig) -> int:
        """Read every planned request of ``dev`` once and hand the batch over; readings sent."""
        state = self.states[dev.device]
        state.polls += 1
        ts = now_ms()
        state.last_poll_ms = ts
        values: list[tuple[str, float]] = []
        errors: list[str] = []
        failed: list[str] = []
        plan = self.plans[dev.device]
        for n, req in enumerate(plan):
            read = (
                client.read_holding_registers
                if req.table == "holding"
                else client.read_input_registers
            )
            try:
                rr = await asyncio.wait_for(
                    read(req.address, count=req.count, device_id=dev.unit_id), dev.timeout_s * 1.5
                )
            except Exception as exc:  # timeout, connection lost: the rest would fail too
                errors.append(f"FC{req.function_code} {req.address}+{req.count}: {exc!r}")
                failed.extend(i.point for r in plan[n:] for i in r.items)
                client.close()
                break
            if rr.isError():
                code = getattr(rr, "exception_code", "?")
                errors.append(f"FC{req.function_code} {req.address}+{req.count}: exception {code}")
                failed.extend(i.point for i in req.items)
                continue
            try:
                values.extend(req.decode(rr.registers))
            except ValueError as exc:
                errors.append(str(exc))
                failed.extend(i.point for i in req.items)
        if errors:
            self._failed(state, dev, "; ".join(errors))
        else:
            state.online = True
            state.consecutive_failures = 0
        return self._hand_over(dev, state, ts, values, failed)

    async def poll_ring(self, client: Any, dev: ModbusDeviceConfig) -> int:
        """Read the samples of ``dev``'s ring newer than the last handed over and hand them over
        with their device times; readings sent (see the module docstring)."""
        state = self.states[dev.device]
        ring = self.rings[dev.device]
        state.polls += 1
        state.last_poll_ms = now_ms()
        try:
            words = await self._read(client, dev, ring.table, ring.address, HEADER_REGISTERS)
            latest = ring.decode_header(words)
        except (_ReadError, CodecError) as exc:
            self._failed(state, dev, str(exc))
            return 0
        last = self.sequences.get(dev.device)
        todo = pending(last, latest, ring.depth)
        if todo.whole_ring and last is not None:
            log.warning(
                "modbus %s: load-profile sequence went back from %d to %d (device restarted?); "
                "reading the whole ring",
                dev.device,
                last,
                latest,
            )
        if todo.gap is not None:
            self._gap(dev, state, todo.gap[0], todo.gap[1], ring.depth)
        samples: list[Sample] = []
        done: int | None = None
        error: str | None = None
        for run in ring.runs(todo.seqs, dev.max_registers):
            try:
                got = ring.split(
                    run, await self._read(client, dev, ring.table, run.address, run.count)
                )
            except (_ReadError, CodecError) as exc:
                error = str(exc)
                break
            for want, sample in zip(run.seqs, got, strict=True):
                if sample.seq == want and sample.ts_ms != 0:
                    samples.append(sample)
                elif not todo.whole_ring:  # overwritten while we read: gone
                    self._gap(dev, state, want, want, ring.depth)
            done = run.seqs[-1]
        if error is not None:
            self._failed(state, dev, error)
        else:
            state.online = True
            state.consecutive_failures = 0
        if done is None:
            return 0
        sent = self._hand_over_samples(dev, state, samples)
        if sent is not None:
            self.sequences.set(dev.device, done)
        return sent or 0

    async def _read(
        self, client: Any, dev: ModbusDeviceConfig, table: str, address: int, count: int
    ) -> list[int]:
        read = client.read_holding_registers if table == "holding" else client.read_input_registers
        fc = 3 if table == "holding" else 4
        try:
            rr = await asyncio.wait_for(
                read(address, count=count, device_id=dev.unit_id), dev.timeout_s * 1.5
            )
        except Exception as exc:  # timeout, connection lost: reconnect before the next cycle
            client.close()
            raise _ReadError(f"FC{fc} {address}+{count}: {exc!r}") from exc
        if rr.isError():
            code = getattr(rr, "exception_code", "?")
            raise _ReadError(f"FC{fc} {address}+{count}: exception {code}")
        return list(rr.registers)

    def _gap(
        self, dev: ModbusDeviceConfig, state: DeviceState, first: int, last: int, depth: int
    ) -> None:
        n = (last - first) % SEQ_MODULUS + 1
        state.lost_samples += n
        state.gaps = [*state.gaps[-19:], (first, last)]
        log.warning(
            "modbus %s: load-profile samples %d..%d (%d) lost: the ring holds %d samples and "
            "more were written while it was not read",
            dev.device,
            first,
            last,
            n,
            depth,
        )

    def _hand_over_samples(
        self, dev: ModbusDeviceConfig, state: DeviceState, samples: list[Sample]
    ) -> int | None:
        """One batch with every sample's readings; None when it could not be spooled (the
        samples are then read again next cycle, while the ring holds them)."""
        if not samples:
            return 0
        points = self._ring_points[dev.device]
        readings = [
            {"point": point, "ts": s.ts_ms, "value": s.values[i]}
            for s in samples
            for point, i in points
        ]
        sent = self._accept(dev, readings, "samples kept in the ring for the next cycle")
        if sent is None:
            return None
        state.samples += len(samples)
        state.batches += 1
        return sent

    def _hand_over(
        self,
        dev: ModbusDeviceConfig,
        state: DeviceState,
        ts: int,
        values: list[tuple[str, float]],
        failed: Sequence[str] = (),
    ) -> int:
        readings: list[dict[str, Any]] = []
        for point in failed:
            # the quality flag of a bad read: the last good value, once, marked bad (kept as
            # evidence, never accounted); forgetting it makes the next good read publish again
            last = state.last_values.pop(point, None)
            if last is not None:
                readings.append({"point": point, "ts": ts, "value": last[0], "q": "bad"})
        for point, value in values:
            last = state.last_values.get(point)
            if (
                dev.report == "all"
                or last is None
                or last[0] != value
                or (ts - last[1]) >= dev.heartbeat_s * 1000
            ):
                readings.append({"point": point, "ts": ts, "value": value})
        if not readings:
            return 0
        sent = self._accept(dev, readings, "cycle dropped")
        if sent is None:
            return 0
        for r in readings:
            if r.get("q") != "bad":
                state.last_values[r["point"]] = (r["value"], ts)
        state.batches += 1
        return sent

    def _accept(self, dev: ModbusDeviceConfig, readings: list[dict[str, Any]], when_full: str) -> int | None:
        """Hand one batch of ``dev``'s readings to the intake (spool first); None when the
        spool is full (logged with ``when_full``: what happens to the readings then)."""
        self._seq += 1
        try:
            return self.intake.accept(
                device=dev.device,
                seq=self._seq,
                sent_ms=now_ms(),
                readings=readings,
                source=f"modbus:{dev.device}",
            )
        except SpoolFull as exc:
            log.error("modbus %s: %s; %s", dev.device, exc, when_full)
            self.intake.dropped()
            return None

    def _failed(self, state: DeviceState, dev: ModbusDeviceConfig, error: str) -> None:
        state.failures += 1
        state.consecutive_failures += 1
        if state.online or state.consecutive_failures == 1:
            log.warning(
                "modbus %s (%s:%s unit %s): %s", dev.device, dev.host, dev.port, dev.unit_id, error
            )
        state.online = False
        state.last_error = error


def device_configs(park: Park, *, poll_fraction: float = POLL_FRACTION) -> list[ModbusDeviceConfig]:
    """One device config per Modbus device of ``park``, registers resolved from its profile.

    The poll period defaults to a quarter of the device's update period (bounded to 0.5-60 s)
    so every value the meter holds is seen, soon after it changes.
    """
    from ingest.park.profiles import load_profiles

    profiles = load_profiles()
    ix = park.index
    out = []
    for dev in ix.devices.values():
        if dev.protocol != "modbus" or dev.modbus is None:
            continue
        binding = dev.modbus
        profile = profiles.get(binding.profile)
        if profile is None:
            raise ConfigError(f"modbus device {dev.id!r}: unknown profile {binding.profile!r}")
        word = binding.word_order or profile.word_order
        byte = binding.byte_order or profile.byte_order
        points: list[PointRegister] = []
        for pt in ix.points_of(dev.id):
            if pt.register is None:
                continue
            reg = profile.register(pt.register)
            points.append(
                PointRegister(
                    point=pt.id,
                    name=reg.name,
                    table=reg.table,
                    address=reg.address,
                    dtype=reg.dtype,
                    scale=reg.scale,
                    word_order=word,
                    byte_order=byte,
                )
            )
        if not points:
            continue
        interval = default_poll_s(dev.update_s, poll_fraction)
        readable = [(r.table, r.address, r.address + r.count) for r in profile.registers]
        out.append(
            ModbusDeviceConfig(
                load_profile=load_profile_config(profile, word, byte),
                device=dev.id,
                host=binding.host,
                port=binding.port,
                unit_id=binding.unit_id,
                interval_s=interval,
                timeout_s=min(1.0, interval * 0.8),
                points=points,
                readable=readable,
            )
        )
    return out
