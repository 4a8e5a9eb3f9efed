"""One process running every simulator a park needs, on one asyncio loop, on a simulated clock.

``Simulation.run()`` starts the Modbus servers, the OPC UA servers and the MQTT publishers the
park uses, then advances the engines to the simulated clock, hands every tick to the protocol
that serves it, and sleeps until the next tick is due. At the end (``duration_s`` of wall time,
or a stop request) it writes the truth file. Setting up (``setup``) and running (``run``) are
separate so tests can start servers, connect clients, then run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.park.models import Park
from ingest.park.profiles import DeviceProfile, load_profiles
from simulators.cems import CemsEngine
from simulators.clock import SimClock
from simulators.engine import MeterEngine, MeterTick
from simulators.faults import FaultPlan
from simulators.modbus_server import ModbusFarm
from simulators.mqtt_publishers import CemsPublisher, GatewayPublisher, MqttOut
from simulators.opcua_server import OpcUaEndpoint
from simulators.truth import TRUTH_SCHEMA, CemsTruth, EmissionLog, write_truth

if TYPE_CHECKING:
    from nengtan.mqttauth import Login
    from nengtan.pki import PkiPaths

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    """How to run: simulated start, speed, seed, where to write, which broker."""

    start_ms: int
    speed: float = 1.0
    seed: int = 0
    duration_s: float | None = None
    truth_path: Path | None = None
    log_path: Path | None = None
    clock_path: Path | None = None
    mqtt: tuple[str, int] | None = None
    mqtt_logins: dict[str, Login | None] | None = None
    """Enterprise → its gateway account's login (``None``: anonymous)."""
    opcua_pki: PkiPaths | None = None
    """Certificates for OPC UA Basic256Sha256 SignAndEncrypt (``None``: no security)."""


@dataclass
class Simulation:
    park: Park
    options: RunOptions
    profiles: dict[str, DeviceProfile] = field(default_factory=load_profiles)

    def __post_init__(self) -> None:
        o = self.options
        self.plan = FaultPlan.build(self.park, o.start_ms)
        self.meters = MeterEngine(self.park, self.profiles, self.plan, o.start_ms, o.seed)
        self.cems = CemsEngine(self.park, self.plan, o.start_ms, o.seed)
        self.cems_truth = CemsTruth()
        self.events: list[dict[str, Any]] = []
        self.log = EmissionLog(o.log_path)
        ix = self.park.index
        devices = list(ix.devices.values())
        self.modbus = ModbusFarm(
            [d for d in devices if d.protocol == "modbus"], self.profiles, self.plan
        )
        endpoints: dict[str, list[Any]] = {}
        for d in devices:
            if d.opcua is not None:
                endpoints.setdefault(d.opcua.endpoint, []).append(d)
        self.opcua = [OpcUaEndpoint(ep, devs, ix, o.opcua_pki) for ep, devs in endpoints.items()]
        self.mqtt_out: MqttOut | None = None
        self.gateways: GatewayPublisher | None = None
        self.stacks: CemsPublisher | None = None
        self.needs_mqtt = bool(ix.stacks) or any(d.protocol == "mqtt" for d in devices)
        self.clock: SimClock | None = None
        self.end_ms: int | None = None
        self.reached_ms: int | None = None  # the last simulated instant the run advanced to
        self._stop = asyncio.Event()

    def record(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.log.write({"type": "fault", **event})

    async def setup(self) -> None:
        """Start every server and connect to the broker (no values yet)."""
        if self.needs_mqtt:
            if self.options.mqtt is None:
                raise ValueError("this park publishes over MQTT: RunOptions.mqtt is required")
            self.mqtt_out = MqttOut(
                *self.options.mqtt,
                client_id=f"nengtan-sim-{self.park.id}",
                logins=self.options.mqtt_logins,
            )
            await asyncio.to_thread(self.mqtt_out.connect)
            self.gateways = GatewayPublisher(self.park.index, self.plan, self.mqtt_out, self.record)
            self.stacks = CemsPublisher(self.park.index, self.plan, self.mqtt_out, self.record)
        try:
            await self.modbus.start()
            await asyncio.gather(*(ep.start() for ep in self.opcua))
        except BaseException:
            await self.teardown()  # a port in use: stop what did start
            raise

    def stop(self) -> None:
        """Ask a running simulation to finish (the truth is still written)."""
        self._stop.set()

    async def run(self) -> dict[str, Any]:
        """Advance until the duration is over or ``stop()``; returns the truth document."""
        o = self.options
        self.clock = SimClock(o.start_ms, o.speed)
        if o.clock_path is not None:  # for pollers that stamp readings with their wall clock
            write_truth(o.clock_path, self.clock.as_dict())
        if o.duration_s is not None:
            self.end_ms = o.start_ms + round(o.duration_s * o.speed * 1000)
        try:
            while True:
                now = int(self.clock.now_ms())
                target = now if self.end_ms is None else min(now, self.end_ms)
                await self.advance(target)
                self.reached_ms = target
                if (self.end_ms is not None and target >= self.end_ms) or self._stop.is_set():
                    break
                due = min(self.meters.next_due_ms(), self.cems.next_due_ms())
                if self.end_ms is not None:
                    due = min(due, self.end_ms)
                delay = min(max(self.clock.wall_delay_s(due), 0.0), 0.5)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay + 0.001)
        finally:
            await self.teardown()
        truth = self.truth()
        if o.truth_path is not None:
            write_truth(o.truth_path, truth)
        return truth

    async def advance(self, target: int) -> None:
        """Run every tick due at or before simulated instant ``target`` (tests step with it)."""
        for tick in self.meters.advance_to(target):
            await self._dispatch(tick)
        for minute in self.cems.advance_to(target):
            self.cems_truth.add(minute)
            if self.stacks is not None:
                self.stacks.apply(minute)
            if minute.emitted and self.log.enabled:
                self.log.write(
                    {
                        "type": "cems",
                        "src": minute.stack.id,
                        "t": minute.t_ms,
                        "ts": minute.ts_ms,
                        "flag": minute.flag,
                        "values": minute.values,
                    }
                )

    async def _dispatch(self, tick: MeterTick) -> None:
        for ev in tick.events:
            self.record(ev)
        self.modbus.apply(tick)
        for ep in self.opcua:
            await ep.apply(tick, self.plan)
        if self.gateways is not None:
            self.gateways.apply(tick)
        if self.log.enabled:
            g = tick.group
            for di, dev in enumerate(g.devices):
                if not tick.emitting[di]:
                    continue
                a, b = g.dev_slices[di]
                self.log.write(
                    {
                        "type": "readings",
                        "src": dev.id,
                        "protocol": dev.protocol,
                        "t": tick.t_ms,
                        "ts": tick.t_ms + g.dev_skew_ms[di],
                        "values": {g.point_ids[i]: float(tick.values[i]) for i in range(a, b)},
                    }
                )

    async def teardown(self) -> None:
        if self.mqtt_out is not None:
            await asyncio.to_thread(self.mqtt_out.close)
            self.mqtt_out = None
        await self.modbus.stop()
        await asyncio.gather(*(ep.stop() for ep in self.opcua))
        self.opcua = []
        self.log.close()

    def truth(self) -> dict[str, Any]:
        """The truth document (see ``docs/simulators.md``)."""
        windows: list[dict[str, Any]] = []
        for kind, table in (
            ("offline", self.plan.offline),
            ("gap", self.plan.gap),
            ("duplicate", self.plan.duplicate),
            ("stuck_value", self.plan.stuck),
        ):
            for target, wins in table.items():
                windows.extend({"kind": kind, "target": target, "t0": a, "t1": b} for a, b in wins)
        for target, eps in self.plan.over_emission.items():
            windows.extend(
                {
                    "kind": "over_emission",
                    "target": target,
                    "t0": e.t0,
                    "t1": e.t1,
                    "factor": e.factor,
                }
                for e in eps
            )
        for target, flags in self.plan.cems_flag.items():
            windows.extend(
                {"kind": "cems_flag", "target": target, "t0": a, "t1": b, "flag": f}
                for a, b, f in flags
            )
        for target, skew in self.plan.skew_ms.items():
            windows.append({"kind": "clock_skew", "target": target, "skew_ms": skew})
        return {
            "schema": TRUTH_SCHEMA,
            "park": self.park.id,
            "seed": self.options.seed,
            "start_ms": self.options.start_ms,
            "end_ms": self.reached_ms,
            "clock": self.clock.as_dict() if self.clock else None,
            "points": self.meters.truth_points(),
            "stacks": self.cems_truth.result(),
            "faults": {"fired": self.events, "windows": windows},
        }
