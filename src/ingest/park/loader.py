"""Load a park file: YAML -> one validated schema pass -> cross-reference checks -> ``Park``.

Every problem is reported as ``FILE: PATH: PROBLEM`` where PATH walks the document
(``enterprises[0](acme).points[3](acme.boiler.gas).carrier``), so a person can find the entry
in a 100,000-point file. Problems are collected (up to ``MAX_PROBLEMS``) and raised as one
``ConfigError`` (exit code 2). The YAML is read with libyaml and validated by pydantic in one
pass over the whole document, which keeps a 100,000-point park to a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ingest.park.index import ParkIndex, stack_point_id
from ingest.park.models import Device, Enterprise, Park, Point
from ingest.park.profiles import DeviceProfile, load_profiles
from ingest.park.vocabulary import cems_species, point_problem
from nengtan.errors import ConfigError

MAX_PROBLEMS = 10
DEFAULT_OPCUA_NS_INDEX = 2
"""The simulator registers the park's namespace first, so it gets index 2 (0 and 1 are OPC
UA's own)."""


def default_node_id(point_id: str) -> str:
    """The OPC UA node id of a point that does not name one."""
    return f"ns={DEFAULT_OPCUA_NS_INDEX};s={point_id}"


def load_park(path: str | Path, profiles: dict[str, DeviceProfile] | None = None) -> Park:
    """Read, validate and index a park file; ``ConfigError`` names file, path and problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read park file: {exc.strerror or exc}") from exc
    if text.lstrip().startswith("{"):
        # JSON is YAML too; large generated parks are written that way and read much faster
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid JSON-form YAML: line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}"
            ) from exc
        return parse_park(data, str(path), profiles)
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML: {where}{problem}") from exc
    return parse_park(data, str(path), profiles)


def parse_park(
    data: Any, source: str = "<park>", profiles: dict[str, DeviceProfile] | None = None
) -> Park:
    """Validate an already-parsed park document (``source`` names it in errors)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: (top level): expected a mapping with 'id' and 'enterprises'")
    try:
        park = Park.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{_path(data, err['loc'])}: {_message(err)}" for err in exc.errors()[:MAX_PROBLEMS]
        ]
        raise ConfigError(_summary(source, problems, exc.error_count())) from exc
    checker = _Checker(park, profiles if profiles is not None else load_profiles())
    problems = checker.run()
    if problems:
        raise ConfigError(_summary(source, problems[:MAX_PROBLEMS], len(problems)))
    park._index = checker.index
    return park


def _summary(source: str, problems: list[str], total: int) -> str:
    if total == 1:
        return f"{source}: {problems[0]}"
    more = f" (first {len(problems)} shown)" if total > len(problems) else ""
    return f"{source}: {total} problems{more}: " + "; ".join(problems)


def _message(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "union_tag_invalid":
        return msg.replace("Input tag", "fault kind")
    return msg


def _path(data: Any, loc: Iterable[Any]) -> str:
    """``('enterprises', 0, 'points', 3, 'uom')`` -> ``enterprises[0](acme).points[3](p1).uom``."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f"({node['id']})"
        else:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, dict) and node.get("kind") == part:
                continue  # pydantic's discriminator step inside a union
            else:
                node = None
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Checker:
    """Cross-reference checks that need the whole park (ids, profiles, fault targets)."""

    def __init__(self, park: Park, profiles: dict[str, DeviceProfile]) -> None:
        self.park = park
        self.profiles = profiles
        self.problems: list[str] = []
        self.index = ParkIndex()

    def bad(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def run(self) -> list[str]:
        self._unique_ids()
        if self.problems:
            return self.problems
        self.index = ParkIndex.build(self.park)
        modbus_slots: dict[tuple[str, int, int], str] = {}
        topics: dict[str, str] = {}
        for ei, ent in enumerate(self.park.enterprises):
            ew = f"enterprises[{ei}]({ent.id})"
            self._units(ent, ew)
            for di, dev in enumerate(ent.devices):
                self._device(dev, f"{ew}.devices[{di}]({dev.id})", ent, modbus_slots, topics)
            bound: dict[tuple[str, str], str] = {}
            for pi, pt in enumerate(ent.points):
                self._point(pt, f"{ew}.points[{pi}]({pt.id})", ent, bound)
            for si, st in enumerate(ent.stacks):
                sw = f"{ew}.stacks[{si}]({st.id})"
                species = cems_species()
                for sp in st.species:
                    if sp not in species:
                        self.bad(f"{sw}.species", f"unknown species {sp!r} ({', '.join(species)})")
                for name, table in (("limits", st.limits), ("baseline", st.baseline)):
                    for sp in table:
                        if sp not in st.species:
                            self.bad(f"{sw}.{name}.{sp}", "not among the stack's species")
                if st.unit is not None and self.index.unit_enterprise.get(st.unit) != ent.id:
                    self.bad(f"{sw}.unit", f"no production unit {st.unit!r} in {ent.id}")
                topic = st.topic or f"nt/v1/{ent.id}/cems/{st.id}"
                if topic in topics:
                    self.bad(f"{sw}.topic", f"{topic!r} is also used by {topics[topic]}")
                topics[topic] = st.id
        for fi, fault in enumerate(self.park.faults):
            self._fault(fault, f"faults[{fi}]({fault.kind})")
        return self.problems

    def _unique_ids(self) -> None:
        seen: dict[str, dict[str, str]] = {"enterprise": {}, "unit": {}, "source": {}, "point": {}}

        def claim(space: str, ident: str, where: str) -> None:
            other = seen[space].get(ident)
            if other is not None:
                self.bad(where, f"id {ident!r} is already used by {other}")
            else:
                seen[space][ident] = where

        for ei, ent in enumerate(self.park.enterprises):
            ew = f"enterprises[{ei}]({ent.id})"
            claim("enterprise", ent.id, ew)
            for i, unit in enumerate(ent.units):
                claim("unit", unit.id, f"{ew}.units[{i}]")
            for i, dev in enumerate(ent.devices):
                claim("source", dev.id, f"{ew}.devices[{i}]")
            for i, st in enumerate(ent.stacks):
                claim("source", st.id, f"{ew}.stacks[{i}]")
                for sp in st.species:
                    claim("point", stack_point_id(st.id, sp), f"{ew}.stacks[{i}].species({sp})")
            for i, pt in enumerate(ent.points):
                claim("point", pt.id, f"{ew}.points[{i}]")

    def _units(self, ent: Enterprise, ew: str) -> None:
        for ui, unit in enumerate(ent.units):
            if unit.parent is None:
                continue
            parent = self.index.units.get(unit.parent)
            where = f"{ew}.units[{ui}]({unit.id}).parent"
            if parent is None or self.index.unit_enterprise[unit.parent] != ent.id:
                self.bad(where, f"no production unit {unit.parent!r} in {ent.id}")
            elif parent.level >= unit.level:
                self.bad(where, f"a level-{unit.level} unit cannot sit under level {parent.level}")

    def _device(
        self,
        dev: Device,
        where: str,
        ent: Enterprise,
        modbus_slots: dict[tuple[str, int, int], str],
        topics: dict[str, str],
    ) -> None:
        binding = {"modbus": dev.modbus, "opcua": dev.opcua, "mqtt": dev.mqtt}
        for name, value in binding.items():
            if name != dev.protocol and value is not None:
                self.bad(f"{where}.{name}", f"a {dev.protocol} device takes no {name} section")
        if dev.protocol == "modbus":
            if dev.modbus is None:
                self.bad(where, "a modbus device needs a 'modbus' section (port, unit_id, profile)")
                return
            mb = dev.modbus
            if mb.profile not in self.profiles:
                known = ", ".join(sorted(self.profiles))
                self.bad(f"{where}.modbus.profile", f"unknown profile {mb.profile!r} ({known})")
            slot = (mb.host, mb.port, mb.unit_id)
            if slot in modbus_slots:
                self.bad(
                    f"{where}.modbus",
                    f"{mb.host}:{mb.port} unit {mb.unit_id} is also {modbus_slots[slot]}",
                )
            modbus_slots[slot] = dev.id
        elif dev.protocol == "opcua" and dev.opcua is None:
            self.bad(where, "an opcua device needs an 'opcua' section (endpoint)")
        elif dev.protocol == "mqtt":
            topic = (dev.mqtt.topic if dev.mqtt else None) or f"nt/v1/{ent.id}/{dev.id}/readings"
            if topic in topics:
                self.bad(f"{where}.mqtt.topic", f"{topic!r} is also used by {topics[topic]}")
            topics[topic] = dev.id

    def _point(
        self, pt: Point, where: str, ent: Enterprise, bound: dict[tuple[str, str], str]
    ) -> None:
        problem = point_problem(pt.kind, pt.carrier, pt.uom)
        if problem is not None:
            self.bad(where, problem)
        unit_level = 1
        if pt.unit is not None:
            unit = self.index.units.get(pt.unit)
            if unit is None or self.index.unit_enterprise[pt.unit] != ent.id:
                self.bad(f"{where}.unit", f"no production unit {pt.unit!r} in {ent.id}")
            else:
                unit_level = unit.level
        if pt.level is not None and pt.level != unit_level:
            self.bad(f"{where}.level", f"is {pt.level} but the point's unit is level {unit_level}")
        if pt.device is None:
            if pt.register or pt.node:
                self.bad(where, "'register'/'node' given but no 'device'")
            return
        dev = self.index.devices.get(pt.device)
        if dev is None or self.index.device_enterprise[pt.device] != ent.id:
            self.bad(f"{where}.device", f"no device {pt.device!r} in {ent.id}")
            return
        if dev.protocol == "modbus":
            self._modbus_point(pt, where, dev, bound)
        elif pt.register is not None:
            self.bad(f"{where}.register", f"device {dev.id} is {dev.protocol}, not modbus")
        if pt.node is not None and dev.protocol != "opcua":
            self.bad(f"{where}.node", f"device {dev.id} is {dev.protocol}, not opcua")

    def _modbus_point(
        self, pt: Point, where: str, dev: Device, bound: dict[tuple[str, str], str]
    ) -> None:
        assert dev.modbus is not None
        profile = self.profiles.get(dev.modbus.profile)
        if profile is None:
            return  # reported on the device
        if pt.register is None:
            names = ", ".join(profile.register_names())
            self.bad(where, f"a point of modbus device {dev.id} needs a 'register' ({names})")
            return
        try:
            reg = profile.register(pt.register)
        except KeyError:
            names = ", ".join(profile.register_names())
            self.bad(f"{where}.register", f"profile {profile.id} has no {pt.register!r} ({names})")
            return
        if reg.kind != pt.kind or reg.uom != pt.uom:
            self.bad(
                f"{where}.register",
                f"{pt.register} is a {reg.kind} in {reg.uom}, the point a {pt.kind} in {pt.uom}",
            )
        key = (dev.id, reg.measures)
        if key in bound:
            self.bad(f"{where}.register", f"{reg.measures} of {dev.id} is already {bound[key]}")
        bound[key] = pt.id

    def _fault(self, fault: Any, where: str) -> None:
        ix = self.index
        target = fault.target
        kind = fault.kind
        if kind in ("counter_reset", "counter_rollover", "stuck_value"):
            pt = ix.points.get(target)
            if pt is None or pt.device is None or target not in ix.point_enterprise:
                self.bad(f"{where}.target", f"no point {target!r} read from a device")
                return
            if pt.device in ix.stacks:
                self.bad(f"{where}.target", f"{target} is a CEMS species, not a meter")
                return
            if kind != "stuck_value" and pt.kind != "counter":
                self.bad(f"{where}.target", f"{target} is a {pt.kind}, not a counter")
            if kind == "counter_rollover" and self.modulus(pt) is None:
                self.bad(
                    f"{where}.target",
                    f"{target} never wraps: bind it to an unsigned or 'rollover' register",
                )
            return
        if kind == "over_emission":
            if target not in ix.stacks and target not in ix.enterprises:
                self.bad(f"{where}.target", f"no stack or enterprise {target!r}")
            return
        if kind in ("cems_flag", "bad_crc"):
            st = ix.stacks.get(target)
            if st is None:
                self.bad(f"{where}.target", f"no stack {target!r}")
            elif kind == "bad_crc" and st.format == "json":
                self.bad(f"{where}.target", f"stack {target} publishes JSON; no CRC to break")
            return
        if target in ix.stacks:
            return
        dev = ix.devices.get(target)
        if dev is None:
            self.bad(f"{where}.target", f"no device or stack {target!r}")
            return
        publisher_only = ("gap", "duplicate", "out_of_order", "malformed")
        if kind in publisher_only and dev.protocol != "mqtt":
            self.bad(
                f"{where}.target", f"{kind} needs an MQTT publisher; {target} is {dev.protocol}"
            )
        if kind == "clock_skew" and dev.protocol == "modbus":
            self.bad(f"{where}.target", "modbus sends no timestamps; skew an MQTT or OPC UA device")

    def modulus(self, pt: Point) -> float | None:
        dev = self.index.devices.get(pt.device or "")
        if dev is None or dev.modbus is None or pt.register is None:
            return None
        profile = self.profiles.get(dev.modbus.profile)
        return profile.register(pt.register).modulus if profile else None
