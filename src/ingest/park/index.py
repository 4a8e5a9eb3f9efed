"""Fast lookups over a park: point, device, stack and enterprise by id.

The adapters validate every reading against the park (does the point exist, which enterprise,
what kind and unit) at 100k+ readings/s, so every lookup here is a plain dict access. A CEMS
stack's species are points too, named ``{stack_id}.{species}``, listed under the stack's id as
if the stack were a device (the MQTT adapter turns HJ 212 minute data into reading batches
whose ``device`` is the stack id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ingest.park.models import Device, Enterprise, Park, Point, ProductionUnit, Stack
from ingest.park.vocabulary import cems_species


def stack_point_id(stack_id: str, species: str) -> str:
    """The point id of one species measured at a stack."""
    return f"{stack_id}.{species}"


def stack_points(stack: Stack, unit_level: Literal[1, 2, 3] | None) -> list[Point]:
    """The gauge points a stack's monitored species become."""
    table = cems_species()
    out = []
    for sp in stack.species:
        spec = table.get(sp)
        out.append(
            Point.model_construct(
                id=stack_point_id(stack.id, sp),
                name=f"{stack.name or stack.id} {spec.description if spec else sp}",
                kind="gauge",
                carrier=None,
                uom=spec.uom if spec else "",
                use=None,
                unit=stack.unit,
                level=unit_level or 1,
                device=stack.id,
                register=None,
                node=None,
                load=None,
            )
        )
    return out


@dataclass(slots=True)
class ParkIndex:
    """Dicts by id, built once; see the module docstring."""

    enterprises: dict[str, Enterprise] = field(default_factory=dict)
    units: dict[str, ProductionUnit] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    stacks: dict[str, Stack] = field(default_factory=dict)
    points: dict[str, Point] = field(default_factory=dict)
    point_enterprise: dict[str, str] = field(default_factory=dict)
    device_enterprise: dict[str, str] = field(default_factory=dict)
    stack_enterprise: dict[str, str] = field(default_factory=dict)
    unit_enterprise: dict[str, str] = field(default_factory=dict)
    source_points: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, park: Park) -> ParkIndex:
        """Index a park whose ids are known to be unique (the loader checks that first)."""
        ix = cls()
        for ent in park.enterprises:
            ix.enterprises[ent.id] = ent
            for unit in ent.units:
                ix.units[unit.id] = unit
                ix.unit_enterprise[unit.id] = ent.id
            for dev in ent.devices:
                ix.devices[dev.id] = dev
                ix.device_enterprise[dev.id] = ent.id
                ix.source_points[dev.id] = []
            for pt in ent.points:
                ix._add_point(pt, ent.id)
            for st in ent.stacks:
                ix.stacks[st.id] = st
                ix.stack_enterprise[st.id] = ent.id
                ix.source_points[st.id] = []
                level = ix.units[st.unit].level if st.unit in ix.units else None
                for pt in stack_points(st, level):
                    ix._add_point(pt, ent.id)
        return ix

    def _add_point(self, pt: Point, enterprise: str) -> None:
        self.points[pt.id] = pt
        self.point_enterprise[pt.id] = enterprise
        if pt.device is not None and pt.device in self.source_points:
            self.source_points[pt.device].append(pt.id)

    # -- lookups (KeyError for an unknown id) ---------------------------------------------------
    def point(self, point_id: str) -> Point:
        return self.points[point_id]

    def device(self, device_id: str) -> Device:
        return self.devices[device_id]

    def stack(self, stack_id: str) -> Stack:
        return self.stacks[stack_id]

    def enterprise(self, enterprise_id: str) -> Enterprise:
        return self.enterprises[enterprise_id]

    def enterprise_of(self, point_id: str) -> str:
        """The enterprise a point belongs to."""
        return self.point_enterprise[point_id]

    def points_of(self, source_id: str) -> list[Point]:
        """The points a device (or a stack) reports, in park-file order."""
        return [self.points[p] for p in self.source_points[source_id]]

    def point_ids_of(self, source_id: str) -> list[str]:
        return self.source_points[source_id]

    def enterprise_of_source(self, source_id: str) -> str:
        """The enterprise of a device or a stack."""
        if source_id in self.device_enterprise:
            return self.device_enterprise[source_id]
        return self.stack_enterprise[source_id]

    def stack_point(self, stack_id: str, species: str) -> Point:
        return self.points[stack_point_id(stack_id, species)]
