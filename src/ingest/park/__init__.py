"""The park model: enterprises, production units, metering points, devices, CEMS stacks and
faults of one industrial park, loaded from a YAML file (``load_park``) with fast lookups
(``Park.index``), plus the device profiles (register maps) the Modbus side reads.
"""

from ingest.park.index import ParkIndex, stack_point_id
from ingest.park.loader import default_node_id, load_park, parse_park
from ingest.park.models import Device, Enterprise, Park, Point, Stack
from ingest.park.profiles import DeviceProfile, RegisterDef, load_profiles

__all__ = [
    "Device",
    "DeviceProfile",
    "Enterprise",
    "Park",
    "ParkIndex",
    "Point",
    "RegisterDef",
    "Stack",
    "default_node_id",
    "load_park",
    "load_profiles",
    "parse_park",
    "stack_point_id",
]
