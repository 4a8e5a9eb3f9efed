"""The vectorised simulation engine for metering points (counters, rates, gauges).

Points are grouped by their device's update cadence (``update_s``); one group advances all its
points with a handful of numpy operations per tick, so a 100,000-point park costs milliseconds
per tick. At tick ``k`` of a group (simulated instant ``t = start + k × update``):

1. counters advance by the *held* level: ``R += level × Δt_h``; a register that reaches its
   modulus wraps (``R -= M``);
2. devices that emit at ``t`` (not offline, not in a gap) get a new level per point:
   ``nominal × shape(t) × (1 + noise × z)``, clipped at 0, times any enterprise over-emission
   factor; a counter paired with its device's rate (same carrier and use) takes the rate's
   level, so kWh follow kW; silent devices keep their levels (rates are piecewise constant
   between emitted samples, also across gaps);
3. the emitted value is quantised exactly as the wire carries it (float32 or scaled integer
   registers through ``adapters.modbus.codec``'s rules, fixed decimals elsewhere); a stuck
   counter repeats its last emitted value;
4. the truth is updated from the emitted values (see ``simulators.truth``);
5. a pending counter reset sets the register to 0 right after the emission.

Random numbers come from one generator per group, drawn for every point at every tick, so the
run is a pure function of (park, seed) whatever the faults and the wall-clock timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from adapters.modbus.codec import Encoding, decode, encode
from ingest.park.index import ParkIndex
from ingest.park.models import Device, Load, Park, Point
from ingest.park.profiles import DeviceProfile, RegisterDef
from nengtan.errors import ConfigError
from simulators.faults import FaultPlan
from simulators.reference import HOUR_MS, reference

F64 = npt.NDArray[np.float64]
KINDS = ("counter", "rate", "gauge")
DEFAULT_LOAD = Load(nominal=1.0)


@dataclass(frozen=True)
class Binding:
    """Where a point sits on a Modbus device: its register and how the register encodes."""

    register: RegisterDef
    encoding: Encoding


def modbus_encoding(device: Device, profile: DeviceProfile, reg: RegisterDef) -> Encoding:
    """The codec encoding of ``reg`` on ``device`` (device word/byte order overrides)."""
    assert device.modbus is not None
    return Encoding(
        dtype=reg.dtype,
        word_order=device.modbus.word_order or profile.word_order,
        byte_order=device.modbus.byte_order or profile.byte_order,
        scale=reg.scale,
    )


@dataclass
class MeterGroup:
    """All points of the devices sharing one update cadence, as parallel arrays."""

    index: int
    update_ms: int
    devices: list[Device]
    dev_slices: list[tuple[int, int]]
    dev_skew_ms: list[int]
    point_ids: list[str]
    points: list[Point]
    bindings: list[Binding | None]
    kind: npt.NDArray[np.int8]
    nominal: F64
    noise: F64
    shape: npt.NDArray[np.intp]
    modulus: F64  # 0 where the register never wraps
    level: F64
    register: F64  # counter register value R (physical units)
    rng: np.random.Generator
    next_k: int = 0
    # quantisation: index arrays per method
    q_f32: npt.NDArray[np.intp] = field(default_factory=lambda: np.empty(0, np.intp))
    q_div: npt.NDArray[np.intp] = field(default_factory=lambda: np.empty(0, np.intp))
    q_div_by: F64 = field(default_factory=lambda: np.empty(0))
    q_int: npt.NDArray[np.intp] = field(default_factory=lambda: np.empty(0, np.intp))
    q_int_scale: F64 = field(default_factory=lambda: np.empty(0))
    q_codec: list[int] = field(default_factory=list)  # odd encodings: the codec per value
    q_dec: dict[int, npt.NDArray[np.intp]] = field(default_factory=dict)
    # enterprise over-emission: enterprise id -> point indices
    ent_points: dict[str, npt.NDArray[np.intp]] = field(default_factory=dict)
    # faults
    reset_at: F64 = field(default_factory=lambda: np.empty(0))
    stuck_windows: list[tuple[int, int, int]] = field(default_factory=list)  # (point, t0, t1)
    # truth state
    has_last: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, bool))
    last_q: F64 = field(default_factory=lambda: np.empty(0))
    last_ts: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    first_ts: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    wraps: F64 = field(default_factory=lambda: np.empty(0))
    reset_pending: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, bool))
    consumption: F64 = field(default_factory=lambda: np.empty(0))
    n_emitted: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    dev_of_point: npt.NDArray[np.intp] = field(default_factory=lambda: np.empty(0, np.intp))
    faulty_devices: list[int] = field(default_factory=list)
    # a meter's counter driven by the level of its own rate point (kWh follows kW)
    link_counter: npt.NDArray[np.intp] = field(default_factory=lambda: np.empty(0, np.intp))
    link_rate: npt.NDArray[np.intp] = field(default_factory=lambda: np.empty(0, np.intp))
    skew_of_point: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def size(self) -> int:
        return len(self.point_ids)


@dataclass
class MeterTick:
    """One tick of one group: which devices emitted and the values they emitted."""

    group: MeterGroup
    t_ms: int
    emitting: npt.NDArray[np.bool_]  # per device of the group
    values: F64  # per point (meaningful where its device emits)
    events: list[dict[str, object]]


class MeterEngine:
    """Every device-bound metering point of a park, advanced tick by tick."""

    def __init__(
        self,
        park: Park,
        profiles: dict[str, DeviceProfile],
        plan: FaultPlan,
        start_ms: int,
        seed: int,
    ) -> None:
        self.park = park
        self.plan = plan
        self.start_ms = start_ms
        self.ref = reference()
        ix = park.index
        by_cadence: dict[int, list[Device]] = {}
        for dev in ix.devices.values():
            if ix.point_ids_of(dev.id):
                by_cadence.setdefault(round(dev.update_s * 1000), []).append(dev)
        self.groups = [
            self._build_group(i, update_ms, devs, ix, profiles, seed)
            for i, (update_ms, devs) in enumerate(sorted(by_cadence.items()))
        ]

    # -- construction -------------------------------------------------------------------------
    def _build_group(
        self,
        gi: int,
        update_ms: int,
        devices: list[Device],
        ix: ParkIndex,
        profiles: dict[str, DeviceProfile],
        seed: int,
    ) -> MeterGroup:
        points: list[Point] = []
        bindings: list[Binding | None] = []
        slices: list[tuple[int, int]] = []
        dev_of_point: list[int] = []
        for di, dev in enumerate(devices):
            a = len(points)
            for pt in ix.points_of(dev.id):
                points.append(pt)
                dev_of_point.append(di)
                if dev.modbus is not None and pt.register is not None:
                    profile = profiles[dev.modbus.profile]
                    reg = profile.register(pt.register)
                    bindings.append(Binding(reg, modbus_encoding(dev, profile, reg)))
                else:
                    bindings.append(None)
            slices.append((a, len(points)))
        n = len(points)
        loads = [pt.load or DEFAULT_LOAD for pt in points]
        shapes = []
        for pt, ld in zip(points, loads, strict=True):
            try:
                shapes.append(self.ref.shape_index(ld.shape))
            except KeyError as exc:
                raise ConfigError(f"park {self.park.id}: point {pt.id}: {exc.args[0]}") from None
        shape = np.array(shapes, dtype=np.intp)
        modulus = np.array(
            [(b.register.modulus or 0.0) if b else 0.0 for b in bindings], dtype=np.float64
        )
        g = MeterGroup(
            index=gi,
            update_ms=update_ms,
            devices=devices,
            dev_slices=slices,
            dev_skew_ms=[self.plan.skew_ms.get(d.id, 0) for d in devices],
            point_ids=[p.id for p in points],
            points=points,
            bindings=bindings,
            kind=np.array([KINDS.index(p.kind) for p in points], dtype=np.int8),
            nominal=np.array([ld.nominal for ld in loads], dtype=np.float64),
            noise=np.array([ld.noise for ld in loads], dtype=np.float64),
            shape=shape,
            modulus=modulus,
            level=np.zeros(n),
            register=np.array([ld.initial for ld in loads], dtype=np.float64),
            rng=np.random.default_rng([seed, gi]),
        )
        g.dev_of_point = np.array(dev_of_point, dtype=np.intp)
        wraps = g.modulus > 0  # a preset beyond the modulus shows as the register would
        g.register[wraps] = np.mod(g.register[wraps], g.modulus[wraps])
        g.skew_of_point = np.array(g.dev_skew_ms, dtype=np.int64)[g.dev_of_point]
        silent_ids = set(self.plan.offline) | set(self.plan.gap)
        g.faulty_devices = [di for di, d in enumerate(devices) if d.id in silent_ids]
        self._quantisation(g)
        self._link(g)
        self._faults(g, ix)
        g.has_last = np.zeros(n, bool)
        g.last_q = np.zeros(n)
        g.last_ts = np.zeros(n, np.int64)
        g.first_ts = np.zeros(n, np.int64)
        g.wraps = np.zeros(n)
        g.reset_pending = np.zeros(n, bool)
        g.consumption = np.zeros(n)
        g.n_emitted = np.zeros(n, np.int64)
        return g

    def _quantisation(self, g: MeterGroup) -> None:
        """Sort points by how their wire value is rounded, mirroring ``adapters.modbus.codec``:
        float32 registers round to float32; integer registers with a decimal scale hold
        ``round(x × divisor)`` and read back ``raw / divisor``, other scales ``round(x / scale)
        × scale``; values sent as text (MQTT, OPC UA) keep fixed decimals."""
        f32: list[int] = []
        divs: tuple[list[int], list[float]] = ([], [])
        ints: tuple[list[int], list[float]] = ([], [])
        dec: dict[int, list[int]] = {}
        for i, b in enumerate(g.bindings):
            if b is None:
                dec.setdefault(self.ref.decimals[g.points[i].kind], []).append(i)
                continue
            enc = b.encoding
            if enc.dtype == "float32" and enc.scale == 1.0:
                f32.append(i)
            elif enc.dtype == "float64" and enc.scale == 1.0:
                dec.setdefault(15, []).append(i)  # float64 carries the value as it is
            elif enc.is_float:
                g.q_codec.append(i)
            elif enc.divisor is not None:
                divs[0].append(i)
                divs[1].append(float(enc.divisor))
            else:
                ints[0].append(i)
                ints[1].append(enc.scale)
        g.q_f32 = np.array(f32, dtype=np.intp)
        g.q_div = np.array(divs[0], dtype=np.intp)
        g.q_div_by = np.array(divs[1], dtype=np.float64)
        g.q_int = np.array(ints[0], dtype=np.intp)
        g.q_int_scale = np.array(ints[1], dtype=np.float64)
        g.q_dec = {d: np.array(idx, dtype=np.intp) for d, idx in dec.items()}

    @staticmethod
    def _link(g: MeterGroup) -> None:
        """Pair a device's counter with its rate of the same carrier and use when the pair is
        unambiguous (one of each), so the counter advances at the rate the device shows."""
        from accounting.units import integrated_uom

        counters: dict[tuple[int, str | None, str | None, str], list[int]] = {}
        rates: dict[tuple[int, str | None, str | None, str], list[int]] = {}
        for i, pt in enumerate(g.points):
            di = int(g.dev_of_point[i])
            if pt.kind == "counter":
                counters.setdefault((di, pt.carrier, pt.use, pt.uom), []).append(i)
            elif pt.kind == "rate":
                try:
                    uom = integrated_uom(pt.uom)
                except Exception:  # an unknown unit was reported by the park loader
                    continue
                rates.setdefault((di, pt.carrier, pt.use, uom), []).append(i)
        pairs = [
            (c[0], rates[key][0])
            for key, c in counters.items()
            if len(c) == 1 and len(rates.get(key, [])) == 1
        ]
        g.link_counter = np.array([c for c, _ in pairs], dtype=np.intp)
        g.link_rate = np.array([r for _, r in pairs], dtype=np.intp)

    def _faults(self, g: MeterGroup, ix: ParkIndex) -> None:
        n = g.size
        g.reset_at = np.full(n, np.inf)
        ents: dict[str, list[int]] = {}
        for i, pid in enumerate(g.point_ids):
            if pid in self.plan.reset_at:
                g.reset_at[i] = self.plan.reset_at[pid]
            for t0, t1 in self.plan.stuck.get(pid, []):
                g.stuck_windows.append((i, t0, t1))
            ent = ix.enterprise_of(pid)
            if ent in self.plan.over_emission and g.kind[i] != 2:  # loads, not gauges
                ents.setdefault(ent, []).append(i)
            if pid in self.plan.rollover_at:
                self._preload_rollover(g, i, self.plan.rollover_at[pid])
        g.ent_points = {e: np.array(idx, dtype=np.intp) for e, idx in ents.items()}

    def _preload_rollover(self, g: MeterGroup, i: int, at_ms: int) -> None:
        """Start the counter so that, at its nominal shaped load, it wraps at about ``at_ms``."""
        driver = i
        if i in g.link_counter:  # a linked counter follows its rate's nominal and shape
            driver = int(g.link_rate[int(np.flatnonzero(g.link_counter == i)[0])])
        row = self.ref.shapes[g.shape[driver]]
        nominal = g.nominal[driver]
        expected = 0.0
        t = self.start_ms
        while t < at_ms:
            expected += nominal * row[self.ref.shape_column(t)] * g.update_ms / HOUR_MS
            t += g.update_ms
        # half a tick's consumption short of the modulus, so the wrap lands near at_ms
        half_tick = nominal * g.update_ms / HOUR_MS / 2
        g.register[i] = max(g.modulus[i] - expected - half_tick, 0.0)

    # -- running ------------------------------------------------------------------------------
    def next_due_ms(self) -> int:
        """The simulated instant of the next tick of any group."""
        if not self.groups:
            return 2**62
        return min(self.start_ms + g.next_k * g.update_ms for g in self.groups)

    def advance_to(self, t_ms: int) -> list[MeterTick]:
        """Run every tick due at or before ``t_ms``, in time order (groups by cadence)."""
        ticks: list[MeterTick] = []
        while True:
            due = [(self.start_ms + g.next_k * g.update_ms, g.index, g) for g in self.groups]
            due = [d for d in due if d[0] <= t_ms]
            if not due:
                return ticks
            t, _, g = min(due, key=lambda d: (d[0], d[1]))
            ticks.append(self._tick(g, t))

    def _quantise(self, g: MeterGroup, x: F64) -> F64:
        q = np.empty_like(x)
        if g.q_f32.size:
            q[g.q_f32] = x[g.q_f32].astype(np.float32).astype(np.float64)
        if g.q_div.size:
            q[g.q_div] = np.rint(x[g.q_div] * g.q_div_by) / g.q_div_by
        if g.q_int.size:
            q[g.q_int] = np.rint(x[g.q_int] / g.q_int_scale) * g.q_int_scale
        for d, idx in g.q_dec.items():
            q[idx] = x[idx] if d >= 15 else np.round(x[idx], d)
        for i in g.q_codec:
            b = g.bindings[i]
            assert b is not None
            q[i] = decode(encode(float(x[i]), b.encoding), b.encoding)
        return q

    def _tick(self, g: MeterGroup, t: int) -> MeterTick:
        first = g.next_k == 0
        g.next_k += 1
        events: list[dict[str, object]] = []
        counters = g.kind == 0
        # 1. counters advance by the held level; wrap at the modulus
        if not first:
            g.register[counters] += g.level[counters] * (g.update_ms / HOUR_MS)
        wrapping = g.modulus > 0
        if wrapping.any():
            q_now = self._quantise(g, g.register)
            over = wrapping & counters & (q_now >= g.modulus)
            if over.any():
                g.register[over] -= g.modulus[over]
                g.wraps[over] += 1
                for i in np.flatnonzero(over):
                    events.append({"kind": "counter_rollover", "target": g.point_ids[i], "t": t})
        # 2. emitting devices and their new levels
        emitting = np.ones(len(g.devices), dtype=bool)
        for di in g.faulty_devices:  # only devices with offline/gap windows are asked
            emitting[di] = not self.plan.is_silent(g.devices[di].id, t)
        z = g.rng.standard_normal(g.size)
        col = self.ref.shape_column(t)
        new_level = g.nominal * self.ref.shapes[g.shape, col] * (1.0 + g.noise * z)
        np.maximum(new_level, 0.0, out=new_level)
        for ent, idx in g.ent_points.items():
            new_level[idx] *= self.plan.factor_at(ent, t)
        new_level[g.link_counter] = new_level[g.link_rate]
        emit_pt = emitting[g.dev_of_point]
        g.level[emit_pt] = new_level[emit_pt]
        # 3. emitted values as the wire carries them
        x = np.where(counters, g.register, g.level)
        q = self._quantise(g, x)
        stuck = np.zeros(g.size, bool)
        for si, t0, t1 in g.stuck_windows:
            if t0 <= t < t1 and g.has_last[si]:
                stuck[si] = True
        q[stuck] = g.last_q[stuck]
        # 4. truth from emitted values
        ts = t + g.skew_of_point
        self._truth(g, emit_pt, stuck, q, ts)
        # 5. resets right after an emission (deferred while stuck or silent)
        resetting = emit_pt & ~stuck & (g.reset_at <= t)
        if resetting.any():
            g.register[resetting] = 0.0
            g.wraps[resetting] = 0.0
            g.reset_pending[resetting] = True
            g.reset_at[resetting] = np.inf
            for i in np.flatnonzero(resetting):
                events.append({"kind": "counter_reset", "target": g.point_ids[i], "t": t})
        return MeterTick(g, t, emitting, q, events)

    @staticmethod
    def _truth(
        g: MeterGroup,
        emit: npt.NDArray[np.bool_],
        stuck: npt.NDArray[np.bool_],
        q: F64,
        ts: npt.NDArray[np.int64],
    ) -> None:
        seen = emit & g.has_last
        # counters: difference of emitted values, + M per wrap, or the value after a reset
        c = seen & (g.kind == 0) & ~stuck
        inc = np.where(g.reset_pending, q, q - g.last_q) + g.modulus * g.wraps
        g.consumption[c] += inc[c]
        # rates: sample and hold over emitted samples
        r = seen & (g.kind == 1)
        g.consumption[r] += g.last_q[r] * ((ts[r] - g.last_ts[r]) / HOUR_MS)
        fresh = emit & ~g.has_last
        g.first_ts[fresh] = ts[fresh]
        moved = emit & ~stuck
        g.wraps[moved & (g.kind == 0)] = 0.0
        g.reset_pending[moved] = False
        g.last_q[moved] = q[moved]
        g.last_ts[emit] = ts[emit]
        g.has_last |= emit
        g.n_emitted[emit] += 1

    # -- truth export -------------------------------------------------------------------------
    def truth_points(self) -> dict[str, dict[str, object]]:
        """Per counter and rate point: kind, carrier, uom, first/last ts, consumption."""
        out: dict[str, dict[str, object]] = {}
        for g in self.groups:
            for i, pt in enumerate(g.points):
                if pt.kind == "gauge":
                    continue
                emitted = bool(g.has_last[i])
                out[pt.id] = {
                    "kind": pt.kind,
                    "carrier": pt.carrier,
                    "uom": pt.uom,
                    "source": g.devices[int(g.dev_of_point[i])].id,
                    "first_ts": int(g.first_ts[i]) if emitted else None,
                    "last_ts": int(g.last_ts[i]) if emitted else None,
                    "n_emitted": int(g.n_emitted[i]),
                    "consumption": float(g.consumption[i]),
                    "modulus": float(g.modulus[i]) or None,
                }
        return out
